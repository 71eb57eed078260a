"""German spoken punctuation and commands (Duden's dictation words)."""

WORDS = {
    "komma": ",", "punkt": ".", "semikolon": ";", "strichpunkt": ";", "doppelpunkt": ":",
    "fragezeichen": "?", "ausrufezeichen": "!", "klammer auf": "(", "klammer zu": ")",
    "neue zeile": "\n", "neuer absatz": "\n\n",
}
