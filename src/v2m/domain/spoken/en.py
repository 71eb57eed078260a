"""English spoken punctuation and commands."""

WORDS = {
    "new paragraph": "\n\n", "new line": "\n", "question mark": "?", "exclamation mark": "!",
    "exclamation point": "!", "full stop": ".", "period": ".", "comma": ",", "colon": ":",
    "semicolon": ";", "open parenthesis": "(", "close parenthesis": ")",
}
