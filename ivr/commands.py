"""The keys and words every prompt understands, in English and Spanish."""

from __future__ import annotations

from ivr.spoken_digits import spoken_to_keys

# Keys that work at every menu once the caller is identified.
REPEAT_KEY = "*"
SPECIALIST_KEY = "0"
MAIN_MENU_KEY = "9"
RELAY_KEY = "7"
SPANISH_KEY = "8"

# Spoken words that mean a key, in either language.
SPOKEN_COMMANDS = {
    "repeat": REPEAT_KEY,
    "again": REPEAT_KEY,
    "repetir": REPEAT_KEY,
    "otra vez": REPEAT_KEY,
    "agent": SPECIALIST_KEY,
    "representative": SPECIALIST_KEY,
    "operator": SPECIALIST_KEY,
    "specialist": SPECIALIST_KEY,
    "agente": SPECIALIST_KEY,
    "representante": SPECIALIST_KEY,
    "operador": SPECIALIST_KEY,
    "main menu": MAIN_MENU_KEY,
    "menu": MAIN_MENU_KEY,
    "menú principal": MAIN_MENU_KEY,
    "menu principal": MAIN_MENU_KEY,
    "menú": MAIN_MENU_KEY,
    "relay": RELAY_KEY,
    "tty": RELAY_KEY,
    "relevo": RELAY_KEY,
    "retransmisión": RELAY_KEY,
    "español": SPANISH_KEY,
    "espanol": SPANISH_KEY,
    "spanish": SPANISH_KEY,
    "yes": "1",
    "continue": "1",
    "sí": "1",
    "si": "1",
    "continuar": "1",
    # Where a prompt offers "press 2 or say no" (a spoken request read back).
    "no": "2",
}
# Recognition works better when told what callers say here.
SPEECH_HINTS = (
    "$OOV_CLASS_DIGIT_SEQUENCE, repeat, agent, relay, main menu, continue, "
    "repetir, agente, relevo, menú principal, continuar, español"
)


def understood(speech: str) -> str:
    """Return the keys a spoken answer stands for."""
    text = speech.strip().lower().strip(".!?¡¿ ")
    if text in SPOKEN_COMMANDS:
        return SPOKEN_COMMANDS[text]
    keys = spoken_to_keys(text)
    return keys if keys is not None else "?"
