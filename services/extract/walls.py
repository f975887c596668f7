"""Walls: tell a consent, login or subscription wall (or a paywalled teaser) from an article.

A page served behind a cookie-consent platform (OneTrust, Didomi, Quantcast Choice, Sourcepoint,
Usercentrics, Cookiebot, Google's Funding Choices, any IAB TCF dialog) or a paywall often
extracts to the wall's own text: "We and our partners store and/or access information on a
device..." or "Subscribe to continue reading". That text must not be published as the story.

The rule works on what extraction returned, not on the markup alone: most real articles carry
a consent platform's script and still extract cleanly, so markup only names the platform once
the body itself reads as a wall. A body is a consent wall when it is short (at most
MAX_WALL_WORDS) and at least half of its paragraphs speak the consent vocabulary (cookies,
partners, personal data, accept/reject...), with several distinct consent terms. It is a
subscription or login wall when it is short and its last paragraphs ask the reader to
subscribe or sign in; a page that declares itself paywalled (schema.org
`isAccessibleForFree: false`) and extracted to a short teaser is a paywalled teaser.
"""

import re
from dataclasses import dataclass

MAX_WALL_WORDS = 400  # a wall's text is short; a long body is an article that mentions cookies
MAX_TEASER_WORDS = 200  # below this, a page that declares a paywall extracted only its teaser
CONSENT_SHARE = 0.5  # share of paragraphs speaking the consent vocabulary
MIN_CONSENT_TERMS = 3  # distinct consent terms in the body

# Consent vocabulary in the languages of the news the corpus holds most of. Each alternative is
# one "term": a body needs several distinct ones, so one stray "cookie" is not enough.
CONSENT_TERMS = re.compile(
    r"\b(cookies?|consent\w*|consentement|einwillig\w*|zustimm\w*|consentimiento|consenso"
    r"|toestemming|samtykke|samtycke|zgod[aęy]|souhlas\w*"
    r"|partners?|partenaires?|partnern?|socios|vendors?|fournisseurs|anbieter"
    r"|personal data|données personnelles|personenbezogene\w*|datos personales|dati personali"
    r"|legitimate interests?|intérêts? légitimes?|berechtigte\w* interesse\w*|interés legítimo"
    r"|privacy|datenschutz\w*|confidentialité|privacidad|riservatezza"
    r"|accept all|reject all|tout accepter|tout refuser|alle akzeptieren|alle ablehnen"
    r"|aceptar todo|rechazar todo|accetta tutto|rifiuta tutto|akkoord"
    r"|manage (?:preferences|options|settings|cookies)|cookie settings|einstellungen"
    r"|paramétrer|personalised ads|personalized ads|ad personalisation|precise geolocation"
    r"|store and/or access information|tcf|iab)\b",
    re.IGNORECASE,
)
# Asking the reader to pay or sign in, in the usual wordings (checked on a wall's last lines).
PAYWALL_ASK = re.compile(
    r"(subscribe|subscription|subscriber|already a member|sign in to (?:continue|read)"
    r"|log in to (?:continue|read)|create (?:a free|an) account to|to continue reading"
    r"|register to (?:continue|read)|unlock this (?:article|story)|exclusive(?:ly)? for subscribers"
    r"|abonn\w+|abo\b|weiterlesen mit|jetzt (?:testen|lesen|anmelden)|registrieren sie sich"
    r"|réservé aux abonnés|déjà abonné|suscr[ií]\w+|contenido exclusivo|abbonat\w+|abbonarsi"
    r"|inicia sesión|connectez-vous|melden sie sich an|accedi per continuare)",
    re.IGNORECASE,
)
LOGIN_ASK = re.compile(
    r"(sign in|log in|anmelden|einloggen|connectez|inicia sesión|accedi|create (?:a free|an) "
    r"account|registrieren|s'inscrire)",
    re.IGNORECASE,
)
# Markup of consent platforms: only used to name the platform of a wall the text revealed.
PLATFORMS = (
    ("OneTrust", re.compile(r"onetrust|optanon", re.IGNORECASE)),
    ("Didomi", re.compile(r"didomi", re.IGNORECASE)),
    ("Quantcast Choice", re.compile(r"qc-cmp2|quantcast", re.IGNORECASE)),
    ("Sourcepoint", re.compile(r"sp_message|sourcepoint|sp-message", re.IGNORECASE)),
    ("Usercentrics", re.compile(r"usercentrics", re.IGNORECASE)),
    ("Cookiebot", re.compile(r"cookiebot|CybotCookiebot", re.IGNORECASE)),
    ("Funding Choices", re.compile(r"fc-consent-root|fundingchoices", re.IGNORECASE)),
    ("TrustArc", re.compile(r"truste|trustarc", re.IGNORECASE)),
    ("IAB TCF", re.compile(r"__tcfapi|__cmp\b", re.IGNORECASE)),
)
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
NOT_FREE = re.compile(r'"isAccessibleForFree"\s*:\s*"?(?:false|False|FALSE)"?')


@dataclass(frozen=True)
class Wall:
    kind: str  # "consent", "subscription", "login", "paywalled teaser"
    platform: str | None = None

    def reason(self) -> str:
        named = f" ({self.platform})" if self.platform else ""
        if self.kind == "paywalled teaser":
            return "page is a paywalled teaser (isAccessibleForFree: false)"
        return f"page is a {self.kind} wall{named}"


def word_count(text: str) -> int:
    """Words, with Chinese, Japanese and Korean text (no spaces between words) counted at
    about two characters a word."""
    cjk = len(CJK.findall(text))
    return len(CJK.sub(" ", text).split()) + cjk // 2


def _platform(html: str) -> str | None:
    for name, pattern in PLATFORMS:
        if pattern.search(html):
            return name
    return None


def _consent(paragraphs: list[str]) -> bool:
    speaking = 0
    terms: set[str] = set()
    for paragraph in paragraphs:
        found = {m.lower() for m in CONSENT_TERMS.findall(paragraph)}
        if found:
            speaking += 1
            terms |= found
    return speaking >= CONSENT_SHARE * len(paragraphs) and len(terms) >= MIN_CONSENT_TERMS


def detect_wall(body: str, html: str) -> Wall | None:
    """The wall this extraction is, or None for an article. `body` is the extracted text
    (paragraphs separated by blank lines), `html` the page it came from."""
    words = word_count(body)
    if words > MAX_WALL_WORDS:
        return None
    paragraphs = [p for p in body.split("\n\n") if p.strip()]
    if not paragraphs:
        return None
    if _consent(paragraphs):
        return Wall("consent", _platform(html))
    tail = " ".join(paragraphs[-2:])
    if PAYWALL_ASK.search(tail) and words <= MAX_TEASER_WORDS:
        login = LOGIN_ASK.search(tail) and not _asks_to_pay(tail)
        return Wall("login" if login else "subscription")
    if words <= MAX_TEASER_WORDS and NOT_FREE.search(html):
        return Wall("paywalled teaser")
    return None


def _asks_to_pay(text: str) -> bool:
    return bool(re.search(r"subscri|abonn|abo\b|suscri|abbon", text, re.IGNORECASE))
