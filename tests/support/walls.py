"""Made-up pages modelled on real consent platforms' and paywalls' markup (element ids, class
names and the wording their dialogs use), and articles that merely mention cookies."""

from tests.support.pages import article_page, paragraphs

HEAD = '<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>{extra}</head><body>'
TCF_STUB = "<script>window.__tcfapi=window.__tcfapi||function(){(window.__tcfapi.a=window.__tcfapi.a||[]).push(arguments)}</script>"

IAB_EN = (
    "We and our partners store and/or access information on a device, such as cookies and "
    "process personal data, such as unique identifiers and standard information sent by a "
    "device for personalised ads and content, ad and content measurement, and audience "
    "insights, as well as to develop and improve products."
)
IAB_EN_2 = (
    "With your permission we and our partners may use precise geolocation data and "
    "identification through device scanning. You may click to consent to our and our 842 "
    "partners' processing as described above. Alternatively you may access more detailed "
    "information and change your preferences before consenting or to refuse consenting."
)
IAB_EN_3 = (
    "Please note that some processing of your personal data may not require your consent, "
    "but you have a right to object to such processing based on legitimate interest. Your "
    "preferences will apply to this website only. You can change your preferences or "
    "withdraw your consent at any time by returning to this site and clicking the Privacy "
    "button at the bottom of the page."
)


def onetrust_wall(title: str = "Storm hits the coast") -> str:
    return (
        HEAD.format(
            lang="en",
            title=title,
            extra='<script src="https://cdn.cookielaw.org/scripttemplates/otSDKStub.js" data-domain-script="0188-abc"></script>',
        )
        + '<div id="onetrust-consent-sdk"><div class="onetrust-pc-dark-filter"></div>'
        '<div id="onetrust-banner-sdk" class="otFlat" role="region" aria-label="Cookie banner">'
        '<div id="onetrust-policy"><h2 id="onetrust-policy-title">We value your privacy</h2>'
        f'<div id="onetrust-policy-text"><p>{IAB_EN}</p><p>{IAB_EN_2}</p><p>{IAB_EN_3}</p></div></div>'
        '<div id="onetrust-button-group"><button id="onetrust-pc-btn-handler">Cookie Settings</button>'
        '<button id="onetrust-reject-all-handler">Reject All</button>'
        '<button id="onetrust-accept-btn-handler">Accept All Cookies</button></div></div></div>'
        "</body></html>"
    )


def didomi_wall(title: str = "Élections : les résultats") -> str:
    text = (
        "Avec votre accord, nos partenaires et nous utilisons des cookies ou technologies "
        "similaires pour stocker et accéder à des informations personnelles comme votre visite "
        "sur ce site. Vous pouvez retirer votre consentement ou vous opposer aux traitements "
        "basés sur l'intérêt légitime à tout moment en cliquant sur « En savoir plus » ou dans "
        "notre politique de confidentialité sur ce site."
    )
    text2 = (
        "Avec nos partenaires, nous traitons les données suivantes : données de géolocalisation "
        "précises et identification par analyse du terminal, publicités et contenu "
        "personnalisés, mesure de performance des publicités et du contenu, données "
        "d'audience et développement de produit. Vos choix concernant les cookies seront "
        "conservés six mois."
    )
    return (
        HEAD.format(
            lang="fr",
            title=title,
            extra='<script src="https://sdk.privacy-center.org/loader.js"></script>',
        )
        + '<div id="didomi-host" data-nosnippet="true"><div class="didomi-popup-container">'
        '<div id="didomi-notice" class="didomi-popup-notice"><h1 class="didomi-popup-title">Bienvenue</h1>'
        f'<p class="didomi-popup-notice-text">{text}</p><p class="didomi-popup-notice-text">{text2}</p>'
        '<button id="didomi-notice-agree-button">Accepter &amp; Fermer</button>'
        '<button id="didomi-notice-learn-more-button">Paramétrer</button>'
        '<button class="didomi-continue-without-agreeing">Continuer sans accepter</button>'
        "</div></div></div></body></html>"
    )


def quantcast_wall(title: str = "Match report") -> str:
    return (
        HEAD.format(lang="en", title=title, extra=TCF_STUB)
        + '<div id="qc-cmp2-container" class="qc-cmp2-container"><div id="qc-cmp2-ui" role="dialog">'
        '<div class="qc-cmp2-summary-section"><h2>We value your privacy</h2>'
        f'<div class="qc-cmp2-summary-info"><p>{IAB_EN}</p><p>{IAB_EN_2}</p><p>{IAB_EN_3}</p></div></div>'
        '<div class="qc-cmp2-footer"><button mode="secondary">MORE OPTIONS</button>'
        '<button mode="primary">AGREE</button></div></div></div></body></html>'
    )


def sourcepoint_wall(title: str = "Regierung beschließt Haushalt") -> str:
    text = (
        "Wir und unsere Partner verwenden Cookies und ähnliche Technologien, um Informationen "
        "auf Ihrem Gerät zu speichern und abzurufen sowie personenbezogene Daten wie eindeutige "
        "Kennungen zu verarbeiten. Mit einem Klick auf Alle akzeptieren erteilen Sie Ihre "
        "Einwilligung in die Verarbeitung zu personalisierter Werbung und Inhalten."
    )
    text2 = (
        "Ihre Einwilligung können Sie jederzeit über den Link Datenschutz-Einstellungen am "
        "Ende jeder Seite widerrufen. Einige Partner verarbeiten Daten auf Grundlage eines "
        "berechtigten Interesses, dem Sie in den Einstellungen widersprechen können. Weitere "
        "Informationen finden Sie in unserer Datenschutzerklärung."
    )
    return (
        HEAD.format(lang="de", title=title, extra=TCF_STUB)
        + '<div id="sp_message_container_812345" class="sp-message-open">'
        '<div class="message-component message-row"><h2>Besuchen Sie uns wie gewohnt mit Werbung und Tracking</h2>'
        f"<p>{text}</p><p>{text2}</p>"
        '<button title="Alle akzeptieren">Alle akzeptieren</button>'
        '<button title="Einstellungen">Einstellungen</button></div></div></body></html>'
    )


def subscription_wall(title: str = "Markets slide on rate fears") -> str:
    teaser = (
        "Stocks fell for a third day as traders weighed the chance of another rate rise, "
        "with technology shares leading the decline in early trading."
    )
    return (
        HEAD.format(lang="en", title=title, extra="") + f"<article><h1>{title}</h1><p>{teaser}</p>"
        '<div class="paywall"><h3>Subscribe to continue reading</h3>'
        "<p>Get unlimited access to our journalism for $1 a week. Already a subscriber? "
        "Sign in.</p></div></article></body></html>"
    )


def login_wall(title: str = "Inside the new budget") -> str:
    return (
        HEAD.format(lang="en", title=title, extra="")
        + f"<article><h1>{title}</h1><p>The finance minister presented the plan on Tuesday.</p>"
        '<div class="regwall"><p>Create a free account to read this article and get our '
        "daily newsletter.</p><p>Already have an account? Log in to continue reading.</p>"
        "</div></article></body></html>"
    )


def paywalled_teaser(title: str = "The quiet boom in rail freight") -> str:
    ld = (
        '<script type="application/ld+json">{"@context":"https://schema.org","@type":'
        f'"NewsArticle","headline":"{title}","isAccessibleForFree":false,"hasPart":'
        '{"@type":"WebPageElement","isAccessibleForFree":false,"cssSelector":".paywalled"}}'
        "</script>"
    )
    teaser = "".join(f"<p>{t}</p>" for t in paragraphs("Rail freight", n=2))
    return (
        HEAD.format(lang="en", title=title, extra=ld)
        + f"<article><h1>{title}</h1>{teaser}<div class='paywalled'></div></article></body></html>"
    )


def article_with_consent_banner(title: str = "Council approves the harbour bridge repairs") -> str:
    """A real article page that also carries a OneTrust banner (most news pages do)."""
    page = article_page(title, paragraphs("Harbour bridge", n=8))
    banner = (
        '<div id="onetrust-consent-sdk"><div id="onetrust-banner-sdk">'
        f'<div id="onetrust-policy-text">{IAB_EN}</div>'
        '<button id="onetrust-accept-btn-handler">Accept All Cookies</button></div></div>'
    )
    return page.replace("</body>", banner + "</body>")


def bakery_story() -> str:
    """A short news story that mentions cookies and partners, and is no wall."""
    body = [
        "The bakery on Mill Street sold its ten thousandth box of cookies on Saturday, and the "
        "owners celebrated with free coffee for everyone in the queue.",
        "The two partners opened the shop five years ago after leaving their office jobs. They "
        "say the oat and raisin cookies remain the favourite of their regulars.",
        "Next month they will start delivering to three cafés in the old town, and they are "
        "hiring two more bakers for the early shift.",
    ]
    return article_page("Bakery celebrates ten thousand boxes of cookies", body)
