"""Property tests: whatever the text, the coder answers, and every evidence is an exact span."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthspace.coding.icd10_coder import load_icd10_coder

CODER = load_icd10_coder()
PHRASES = sorted({p for t in CODER.lexicon.conditions for p in (*t.en, *t.fr)})[::7]
WORDS = [
    "no", "denies", "pas de", "sans", "mais", "but", "history of", "ATCD", "antécédent d'",
    "mère", "mother", "possible", "suspicion de", "rule out", "écartée", "ruled out", "non",
    "family history of", ".", ",", ";", ":", "\n", "\n- ", "(", ")", "?", "'", "é", "Œ", "ß",
]  # fmt: skip
PIECES = st.one_of(
    st.sampled_from(PHRASES),
    st.sampled_from(WORDS),
    st.text(max_size=12),
    st.text(alphabet="aeiouHTADT2 .-'éèç\u0301\u00a0\t", max_size=12),
)
TEXTS = st.lists(PIECES, max_size=25).map(" ".join) | st.text(max_size=300)
STATUSES = {"current", "negated", "historical", "family", "hypothetical"}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS, lang=st.sampled_from([None, "en", "fr"]))
def test_the_coder_never_crashes_and_evidence_is_the_text_span(text: str, lang: str | None) -> None:
    everything = CODER.suggest(text, lang=lang, include_all=True)
    current = CODER.suggest(text, lang=lang)
    for s in everything:
        assert 0 <= s.start < s.end <= len(text)
        assert text[s.start : s.end] == s.evidence
        assert s.status in STATUSES
        assert 0 < s.score <= 1
        assert CODER.table.is_billable(s.code)
        assert (s.trigger is None) == (s.status == "current")
    assert current == [s for s in everything if s.status == "current"]
    assert len({(s.code, s.status) for s in everything}) == len(everything)
