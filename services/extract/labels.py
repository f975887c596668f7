"""Credit labels: the words that introduce a byline's names, one vocabulary for finding bylines
in markup (bylines.py), cutting labels off names (people.py, reconcile.py) and titles."""

# "By" in the languages newswire reads: "By Jane Doe", "Von Anna Schmidt", "Par", "Por", "Di",
# "Av" (Norwegian, Swedish), "Af" (Danish), "Door" (Dutch).
BY = r"(?:by|von|par|por|di|av|af|door)"
# Words for the author that stand as a label ("Autorin: Name", "Text: Name").
AUTHOR = r"(?:autor(?:in)?(?:\s*/\s*autor(?:in)?)?|authors?|texte?)"
# Chinese and Japanese pages' labels: author, editor in charge, reporter.
CJK = r"(?:作者|责编|責編|记者|記者)"
# What may come before "by": "Written by", "Analysis by", "Photos by".
LEAD = (
    r"(?:written|reported|reporting|posted|words|text|texte|story|fotos?|photos?|analysis|"
    r"commentary|opinion|review|interview)"
)
# Labels that name a source, not a person, in author metadata ("Quelle: dpa").
SOURCE = r"(?:redaktion|quelle|source|fuente)"
# An article after "By" makes it prose or a heading ("By The Numbers"), not a byline.
ARTICLE = r"(?:the|a|an|der|die|das|le|la|les|el|los|de)"
