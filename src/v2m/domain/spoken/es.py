"""Spanish spoken punctuation and commands.

Accents are optional when matched ("interrogacion" works too). A spoken "?"
or "!" also opens its sentence with "¿" or "¡", unless the sentence already
has one (said as "abrir interrogación", or written by Whisper).
"""

WORDS = {
    "coma": ",", "punto": ".", "punto y seguido": ".", "punto final": ".", "punto y coma": ";",
    "dos puntos": ":", "puntos suspensivos": "...",
    "signo de interrogación": "?", "cerrar interrogación": "?", "abrir interrogación": "¿",
    "signo de exclamación": "!", "cerrar exclamación": "!", "abrir exclamación": "¡",
    "abrir paréntesis": "(", "cerrar paréntesis": ")",
    "nueva línea": "\n", "punto y aparte": ".\n\n", "nuevo párrafo": "\n\n",
}

OPENING = {"?": "¿", "!": "¡"}
