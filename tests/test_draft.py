"""`kg draft` and `kg accept`: cue families, entity linking, negation and hedging, quote offsets, and accept/reject
round trips on a copy of the ontology that leave `kg validate` clean. Expected answers are what the test sentences
say in plain English (and the ontology's own labels), never read back from the drafter's output."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SOURCES, needs_shared_sources

from kg.curation.draft.claim import DraftClaim
from kg.curation.draft.cues import read_cues
from kg.curation.draft.extract import draft_claims
from kg.curation.draft.lexicon import Lexicon, read_lexicon
from kg.rdf.dataset import read_sources, turtle_files

ONTOLOGY = ROOT / "ontology"
EXAMPLE = ROOT / "tests" / "data" / "draft" / "example-article.txt"
KGR = "https://w3id.org/scad/id/"
SCAD = "https://w3id.org/scad/ontology#"
BROADER = "http://www.w3.org/2004/02/skos/core#broader"


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return read_lexicon(read_sources([ONTOLOGY], ONTOLOGY).quads)


def draft(text: str, lexicon: Lexicon) -> list[DraftClaim]:
    claims, _ = draft_claims(text, lexicon, read_cues(ONTOLOGY / "draft-cues.yaml"))
    return claims


def triples(claims: list[DraftClaim]) -> set[tuple[str, str, str]]:
    return {
        (c.subject.iri.removeprefix(KGR), c.predicate.rsplit("#", 1)[-1], c.object.iri.removeprefix(KGR))
        for c in claims
    }


def only(claims: list[DraftClaim], predicate: str, obj: str) -> DraftClaim:
    found = [c for c in claims if c.predicate == SCAD + predicate and c.object.iri == KGR + obj]
    assert len(found) == 1, [(c.predicate, c.object.iri) for c in claims]
    return found[0]


# entity linking ------------------------------------------------------------------------------------------------


def test_linking_through_labels_synonyms_plurals_and_abbreviations(lexicon: Lexicon) -> None:
    from kg.curation.draft.text import tokenize

    def linked(text: str) -> list[tuple[str, str]]:
        return [(m.entity.iri.removeprefix(KGR), m.how) for m in lexicon.mentions(tokenize(text))]

    # plural of the prefLabel "mesenchymal stem cell"; the synonym "coeliac disease" of celiac disease
    assert linked("Mesenchymal stem cells help in coeliac disease") == [
        ("mesenchymal-stem-cell", "label"),
        ("celiac-disease", "synonym"),
    ]
    # inflection: "infections" and "kidneys" are the labels "infection" and "kidney"; "bloodstream" a synonym
    assert linked("infections of the kidneys and the bloodstream") == [
        ("infection", "label"),
        ("kidney", "label"),
        ("blood", "synonym"),
    ]
    # a plural stems as its singular, whatever suffix the singular loses: "trials" is the altLabel "clinical trial"
    assert linked("Clinical trials are underway") == [("clinical-study", "synonym")]
    # the longest label wins: "MSC therapy" is a therapy, not the cell type MSC
    assert linked("MSC therapy")[0][0] == "msc-therapy"
    # short all-capital synonyms match only as written: "MS" is multiple sclerosis, "ms" is not
    assert linked("patients with MS") == [("multiple-sclerosis", "abbreviation")]
    assert linked("a dose of 5 ms") == []


def test_a_head_word_shared_by_a_list_links_each_item_and_items_are_not_related(lexicon: Lexicon) -> None:
    claims = draft("Stem cells can differentiate into bone, cartilage and fat cells.", lexicon)
    assert {
        ("stem-cell", "differentiatesInto", "bone-cell"),
        ("stem-cell", "differentiatesInto", "cartilage-cell"),
        ("stem-cell", "differentiatesInto", "fat-cell"),
    } <= triples(claims)
    listed = {KGR + "bone-cell", KGR + "cartilage-cell", KGR + "fat-cell"}
    assert not [c for c in claims if c.subject.iri in listed]
    # an item of two words ("anti-inflammatory") is the label "anti-inflammatory drugs", not a new entity
    from kg.curation.draft.text import tokenize

    text = "Treatments include systemic anti-inflammatory or immunosuppressive drugs, such as steroids."
    claims, proposed = draft_claims(text, lexicon, read_cues(ONTOLOGY / "draft-cues.yaml"))
    assert proposed == []  # before, "systemic anti-inflammatory", an unknown item of the list, was proposed
    assert tokenize("anti-inflammatory")[1].text == "inflammatory"  # the hyphen splits the item in two words


def test_an_abbreviation_the_article_defines_links_later_mentions(lexicon: Lexicon) -> None:
    text = "Umbilical cord blood (UCB) is collected at birth. UCB contains hematopoietic stem cells."
    claims = [c for c in draft(text, lexicon) if c.start > text.index(".")]
    assert triples(claims) == {("umbilical-cord-blood", "containsCellType", "hematopoietic-stem-cell")}
    assert claims[0].decisions["subject"].why == "abbreviation 'UCB'"


@pytest.mark.parametrize("written", ["autoimmune illnesses", "autoimmune ailments", "autoimmune conditions"])
def test_a_label_is_found_written_with_an_equivalent_word(written: str, lexicon: Lexicon) -> None:
    # the ontology's label is "autoimmune disease"; illness, ailment and condition are its everyday synonyms
    claims = draft(f"MSC therapy is being studied in {written}.", lexicon)
    assert ("msc-therapy", "investigatedFor", "autoimmune-disease") in triples(claims)
    assert only(claims, "investigatedFor", "autoimmune-disease").decisions["object"].why == f"synonym '{written}'"


def test_a_paraphrase_is_found_through_an_equivalent_word(lexicon: Lexicon) -> None:
    # "high treatment cost" (a Challenge) said with "expensive" in place of "cost"
    claims = draft("MSC therapy helps many patients, but the treatment is still expensive.", lexicon)
    assert ("msc-therapy", "hasChallenge", "high-treatment-cost") in triples(claims)


def test_therapy_words_and_comparatives_have_equivalents(lexicon: Lexicon) -> None:
    # "stem cell interventions" is the label "stem cell therapy"; "increase treatment success" the outcome
    # "higher treatment success", not only the plain "treatment success" its words also name
    claims = draft(
        "Combining stem cell interventions with immunosuppressive drugs may increase treatment success.", lexicon
    )
    assert ("stem-cell-therapy", "combinedWith", "immunosuppressive-drugs") in triples(claims)
    assert ("stem-cell-therapy-with-immunosuppressive-drugs", "hasOutcome", "higher-treatment-success") in triples(
        claims
    )


def test_a_paraphrase_leaves_out_a_word_of_its_label_that_stands_too_far_away(lexicon: Lexicon) -> None:
    # "reversal of autoimmune damage": "reversed" and "damage" are close, "autoimmune" belongs to a later phrase
    claims = draft(
        "Remarkably, HSCT reversed much of the damage that years of autoimmune inflammation had done.", lexicon
    )
    claim = only(claims, "hasOutcome", "damage-reversal")
    assert claim.decisions["object"].why == "words 'reversed much of the damage'"


def test_an_inability_is_the_challenge_a_conventional_treatment_has_as_its_limitation(lexicon: Lexicon) -> None:
    # "inability" is written for the "cannot" of the label "cannot reverse existing damage": not the outcome
    # "reversal of autoimmune damage"; and what stands in a conventional treatment's way is a limitation
    claims = draft(
        "Steroids help many patients, but they have downsides, such as the inability to reverse damage.", lexicon
    )
    assert triples(claims) == {("steroids", "hasLimitation", "cannot-reverse-existing-damage")}
    # a stem cell therapy's challenge stays a challenge
    assert ("msc-therapy", "hasChallenge", "high-treatment-cost") in triples(
        draft("MSC therapy has downsides, such as its high treatment cost.", lexicon)
    )


def test_a_definite_noun_with_of_is_not_an_anaphor(lexicon: Lexicon) -> None:
    # "the treatment of Crohn's disease" is not HSCT again: the subject is the therapy of the cells named before it
    claims = draft(
        "HSCT is a treatment for lupus. MSCs have been studied in the treatment of Crohn's disease.", lexicon
    )
    assert ("msc-therapy", "investigatedFor", "crohns-disease") in triples(claims)
    assert ("hematopoietic-stem-cell-transplantation", "investigatedFor", "crohns-disease") not in triples(claims)


def test_a_pronoun_refers_to_an_entity_named_earlier_in_its_sentence(lexicon: Lexicon) -> None:
    text = (
        "Adult stem cells are common. Hematopoietic stem cells live in bone marrow, and they give rise to blood cells."
    )
    found = triples(draft(text, lexicon))
    assert ("hematopoietic-stem-cell", "differentiatesInto", "blood-cell") in found
    assert ("adult-stem-cell", "differentiatesInto", "blood-cell") not in found


def test_the_use_of_cells_names_the_therapy_with_them(lexicon: Lexicon) -> None:
    text = (
        "HSCT is a treatment for lupus. Researchers are investigating the use of mesenchymal stem cells. "
        "This approach has shown promise in preclinical models."
    )
    found = triples(draft(text, lexicon))
    assert ("msc-therapy", "usesCellType", "mesenchymal-stem-cell") in found
    # and it is what "this approach" refers to next, not HSCT
    assert ("msc-therapy", "hasEvidenceLevel", "preclinical-model") in found


def test_a_paraphrase_counts_a_repeated_word_where_the_others_are(lexicon: Lexicon) -> None:
    # "specialised cell types" paraphrases "differentiation into specialised cell types"; the first "cells" of the
    # sentence is too far from the other words to count
    text = "Stem cells taken from the bone marrow of adult donors can turn into specialised cell types."
    assert ("stem-cell", "hasCapability", "differentiation") in triples(draft(text, lexicon))


def test_a_one_word_label_made_with_a_combining_form_is_found_written_apart() -> None:
    # "immunomodulation" (a one-word label) written as "modulate the immune response"; without the curated quotes,
    # one of which says nearly this
    lexicon = read_lexicon(read_sources([ONTOLOGY], ONTOLOGY).quads, quotes=False)
    text = "Mesenchymal stem cells have the ability to modulate the immune response."
    assert ("mesenchymal-stem-cell", "hasCapability", "immunomodulation") in triples(draft(text, lexicon))


def test_a_conventional_treatment_is_found_paraphrased_and_acts_as_a_subject() -> None:
    # "immunosuppressive drugs" written as "drugs that suppress the immune system" (the combining form inside a
    # label of two words), and what such words name is the subject of the treatment relation
    lexicon = read_lexicon(read_sources([ONTOLOGY], ONTOLOGY).quads, quotes=False)
    text = "Lupus is usually treated with drugs that suppress the immune system."
    assert ("immunosuppressive-drugs", "conventionalTreatmentFor", "lupus") in triples(draft(text, lexicon))


def test_a_stopword_is_no_part_of_a_paraphrase(lexicon: Lexicon) -> None:
    # "different" shares its start with "differentiation" but says nothing about it
    claims = draft("There are different types of stem cells, and stem cells can renew themselves.", lexicon)
    assert not [c for c in claims if c.object.iri == KGR + "differentiation"]


def test_a_therapy_introduced_by_its_name_uses_the_cells_it_is_named_after(lexicon: Lexicon) -> None:
    claims = draft("A promising option is mesenchymal stem cell therapy (MSCT).", lexicon)
    named = only(claims, "usesCellType", "mesenchymal-stem-cell")
    assert named.subject.iri == KGR + "msc-therapy"
    assert named.certainty == "Asserted"  # the name states it, whatever the sentence hedges
    # a later mention of the name, without the abbreviation that introduces it, states nothing of the kind
    later = draft("Mesenchymal stem cell therapy is promising.", lexicon)
    assert not [c for c in later if c.predicate == SCAD + "usesCellType"]


def test_what_combining_two_therapies_achieves_is_said_of_their_combination(lexicon: Lexicon) -> None:
    text = "Doctors are combining stem cell therapy with gene therapy or biologics to achieve higher treatment success."
    found = triples(draft(text, lexicon))
    # the ontology's combination therapies "stem cell therapy combined with gene therapy / with biologics"
    assert ("stem-cell-therapy-with-gene-therapy", "hasOutcome", "higher-treatment-success") in found
    assert ("stem-cell-therapy-with-biologics", "hasOutcome", "higher-treatment-success") in found
    assert ("stem-cell-therapy", "combinedWith", "gene-therapy") in found
    assert not [t for t in found if t[0] in {"biologics", "gene-therapy", "stem-cell-therapy"} and t[1] == "hasOutcome"]
    assert not [t for t in found if t[0].endswith("-with-biologics") and t[1] == "combinedWith"]
    # nor with a part carried from the sentence before
    text = "Stem cell therapy is promising in lupus. Combining stem cell therapies with gene therapy could help."
    found = triples(draft(text, lexicon))
    assert not [t for t in found if "stem-cell-therapy-with-gene-therapy" in t and "stem-cell-therapy" in t]


def test_a_carried_subject_is_the_entity_named_most_recently(lexicon: Lexicon) -> None:
    # "their" ability: the cells the article just named, not the therapy named a sentence before
    text = (
        "MSC therapy is used in lupus. Hematopoietic stem cells are found in bone marrow. "
        "Their other ability is immune suppression."
    )
    found = triples(draft(text, lexicon))
    assert ("hematopoietic-stem-cell", "hasCapability", "immune-suppression") in found
    assert ("msc-therapy", "hasMechanism", "immune-suppression") not in found


def test_cells_are_found_in_a_place_only_when_the_sentence_says_so(lexicon: Lexicon) -> None:
    # the joint is what the cells repair, not where they are found; "found in" still says where they are
    assert not [
        c for c in draft("Mesenchymal stem cells can help repair joint tissue.", lexicon) if "foundIn" in c.predicate
    ]
    assert ("mesenchymal-stem-cell", "foundIn", "bone-marrow") in triples(
        draft("Mesenchymal stem cells are found in bone marrow.", lexicon)
    )


# cue families --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Mesenchymal stem cells are found in bone marrow.", ("mesenchymal-stem-cell", "foundIn", "bone-marrow")),
        ("HSCT can lead to infections.", ("hematopoietic-stem-cell-transplantation", "hasAdverseEffect", "infection")),
        ("MSC therapy is being studied for lupus.", ("msc-therapy", "investigatedFor", "lupus")),
        ("Lupus damages the kidneys.", ("lupus", "affectsOrgan", "kidney")),
        ("Stem cells can differentiate into bone cells.", ("stem-cell", "differentiatesInto", "bone-cell")),
        ("Diseases such as psoriasis are common.", ("psoriasis", "broader", "autoimmune-disease")),
        ("Psoriasis is an autoimmune disease.", ("psoriasis", "broader", "autoimmune-disease")),
        ("MSC therapy relies on mesenchymal stem cells.", ("msc-therapy", "usesCellType", "mesenchymal-stem-cell")),
        ("MSC therapy depends on mesenchymal stem cells.", ("msc-therapy", "usesCellType", "mesenchymal-stem-cell")),
        (
            "MSC therapy is studied for lupus. Novel therapies may address the root cause of the disease.",
            ("msc-therapy", "hasOutcome", "addresses-root-cause"),
        ),
        # the altLabel "clinical trial", written in the plural
        ("Clinical trials of MSC therapy are underway.", ("msc-therapy", "hasEvidenceLevel", "clinical-study")),
        (
            "There are two types of stem cells, with embryonic stem cells and adult stem cells the best known.",
            ("embryonic-stem-cell", "broader", "stem-cell"),
        ),
        (
            "There are two types of stem cells, with embryonic stem cells and adult stem cells the best known.",
            ("adult-stem-cell", "broader", "stem-cell"),
        ),
    ],
)
def test_relation_cues(sentence: str, expected: tuple[str, str, str], lexicon: Lexicon) -> None:
    text = "Autoimmune disease is common. " + sentence if "Diseases such as" in sentence else sentence
    assert expected in triples(draft(text, lexicon))


def test_a_relation_cue_written_as_a_word_start_matches_the_words_it_starts() -> None:
    from kg.curation.draft.text import find, phrase, tokenize

    # the stemmer makes "regul" of "regulates" and "minimiz" of "minimizes": the cues "regulat" and "minimi" of the
    # cue file match them only as relation cues (loose); certainty and negation cues stay exact ("though" is not
    # "thought")
    tokens = tokenize("MSCs regulate immunity, and regulation minimizes flares, though it is thought safe")
    assert len(find(phrase("regulat", loose=True), tokens)) == 2
    assert len(find(phrase("minimi", loose=True), tokens)) == 1
    assert find(phrase("regulat"), tokens) == []
    assert len(find(phrase("though"), tokens)) == 1
    cues = read_cues(ONTOLOGY / "draft-cues.yaml")
    assert all(c.loose for r in cues.relations for c in r.cues)
    assert not any(c.loose for t in [*cues.certainty.values(), cues.negation] for c in t.forward + t.backward)


@pytest.mark.parametrize(
    ("sentence", "certainty", "cue"),
    [
        ("MSC therapy may lead to clinical remission.", "Hedged", "may"),
        ("MSC therapy is a promising option for lupus.", "Hedged", "promising"),
        ("Studies have shown that MSC therapy improves lupus.", "ReportedFinding", None),
        ("Clinical trials show that MSC therapy helps patients with lupus.", "ReportedFinding", None),
        ("MSC therapy aims to treat lupus.", "Speculative", "aims to"),
        ("MSC therapy treats lupus.", "Asserted", None),
    ],
)
def test_certainty_from_hedge_reporting_and_speculation_cues(
    sentence: str, certainty: str, cue: str | None, lexicon: Lexicon
) -> None:
    claims = draft(sentence, lexicon)
    assert claims and {c.certainty for c in claims} == {certainty}
    assert {c.hedge_cue for c in claims} == {cue}


@pytest.mark.parametrize(
    ("sentence", "negated"),
    [
        ("Stem cell therapy is not a cure for lupus.", True),
        ("MSC therapy works without the heavy side effects.", True),
        ("MSC therapy is not yet approved for lupus.", True),
        ("MSC therapy not only treats lupus but also psoriasis.", False),  # pseudo-negation
        ("MSC therapy is not without risks, but it helps in lupus.", False),  # the terminator "but" ends the scope
        ("MSC therapy helps in lupus.", False),
    ],
)
def test_negation_triggers_pseudo_triggers_and_terminators(sentence: str, negated: bool, lexicon: Lexicon) -> None:
    claims = [c for c in draft(sentence, lexicon) if c.object.iri in {KGR + "lupus", KGR + "long-term-side-effects"}]
    assert claims and {c.negated for c in claims} == {negated}


def test_scope_phrase_is_quoted_verbatim(lexicon: Lexicon) -> None:
    claim = only(
        draft("MSC therapy led to clinical remission in some patients.", lexicon), "hasOutcome", "clinical-remission"
    )
    assert claim.scope == "in some patients"


# subjects from the discourse ---------------------------------------------------------------------------------


def test_a_carried_subject_is_what_the_last_sentence_said_most_about_not_its_last_therapy(lexicon: Lexicon) -> None:
    # the first sentence is about HSCT (two of its steps); radiation, named last, is only one of them
    text = "HSCT involves chemotherapy and radiation. Trials report long-term remission."
    claim = only(draft(text, lexicon), "hasOutcome", "long-term-remission")
    assert claim.subject.iri == KGR + "hematopoietic-stem-cell-transplantation"
    assert claim.decisions["subject"].why.startswith("carried")


def test_a_conventional_treatment_is_the_comparison_and_never_takes_the_topic_from_the_therapy(
    lexicon: Lexicon,
) -> None:
    """Articles about new therapies name the standard treatments to compare: "these treatments" refers to them,
    but what later sentences report without a subject is still about the therapy the article is about."""
    text = (
        "HSCT is studied for lupus. Lupus is usually treated with steroids. These treatments can cause infection. "
        "Trials report long-term remission."
    )
    assert only(draft(text, lexicon), "hasAdverseEffect", "infection").subject.iri == KGR + "steroids"
    claim = only(draft(text, lexicon), "hasOutcome", "long-term-remission")
    assert claim.subject.iri == KGR + "hematopoietic-stem-cell-transplantation"
    assert claim.decisions["subject"].why.startswith("carried")


def test_named_cells_stand_for_their_therapy_in_relations_only_a_therapy_has(lexicon: Lexicon) -> None:
    # "mesenchymal stem cell therapy" is a label of msc-therapy: the cells' label followed by "therapy"
    claims = draft("In lupus, MSCs can lead to pain relief.", lexicon)
    claim = only(claims, "hasOutcome", "pain-relief")
    assert claim.subject.iri == KGR + "msc-therapy"
    assert claim.decisions["subject"].why == "implied: the therapy with the cells 'MSCs'"
    # cells keep their own relations: a capability is the cells'
    assert ("mesenchymal-stem-cell", "hasCapability", "tissue-repair") in triples(
        draft("MSCs have the ability to drive tissue repair.", lexicon)
    )


def test_what_named_cells_can_do_is_drafted_also_as_how_their_therapy_works(lexicon: Lexicon) -> None:
    """Curators record "MSCs can suppress the immune response" as the cells' capability or as the mechanism of the
    therapy named after them: both are drafted, for the curator to keep one."""
    found = triples(draft("MSCs can suppress the overactive immune response.", lexicon))
    assert found == {
        ("mesenchymal-stem-cell", "hasCapability", "immune-suppression"),
        ("msc-therapy", "hasMechanism", "immune-suppression"),
    }
    # "they" may stand for cells no therapy is named after (here, stem cells in general): the capability only
    found = triples(draft("MSCs are studied. They can suppress the overactive immune response.", lexicon))
    assert found == {("mesenchymal-stem-cell", "hasCapability", "immune-suppression")}


def test_these_treatments_after_several_of_one_kind_are_the_entity_named_for_the_kind(lexicon: Lexicon) -> None:
    """Steroids and immunosuppressive drugs are both conventional treatments: "these treatments" after both is the
    ontology's "conventional immune-suppressing treatment", the one ConventionalTreatment named for its kind."""
    text = "Lupus is treated with steroids or immunosuppressive drugs. These treatments can cause infection."
    second = [c for c in draft(text, lexicon) if c.start > text.index(".")]
    assert triples(second) == {("conventional-treatment", "hasAdverseEffect", "infection")}
    # after one treatment, "these treatments" is that one
    text = "Lupus is treated with immunosuppressive drugs. These treatments can cause infection."
    second = [c for c in draft(text, lexicon) if c.start > text.index(".")]
    assert triples(second) == {("immunosuppressive-drugs", "hasAdverseEffect", "infection")}
    # and after treatments of two kinds, no kind is meant: the topic stays
    text = "Lupus is treated with steroids or MSC therapy. These treatments can cause infection."
    second = [c for c in draft(text, lexicon) if c.start > text.index(".")]
    assert "conventional-treatment" not in {s for s, _, _ in triples(second)}


def test_a_plural_class_noun_refers_to_the_class_a_list_named_members_of(lexicon: Lexicon) -> None:
    text = "Lupus and psoriasis are autoimmune diseases. MSC therapy is studied for these conditions."
    second = [c for c in draft(text, lexicon) if c.start > text.index(".")]
    assert triples(second) == {("msc-therapy", "investigatedFor", "autoimmune-disease")}
    # a singular noun still refers to the member the sentence was about: "the disease" is lupus, not the class
    text = "Lupus is an autoimmune disease. MSC therapy is studied for the disease."
    second = [c for c in draft(text, lexicon) if c.start > text.index(".")]
    assert ("msc-therapy", "investigatedFor", "lupus") in triples(second)


@pytest.mark.parametrize("cue", ["such as", "including", "equivalent to", "together with"])
def test_list_cues_name_the_members_of_the_general_entity_before_them(cue: str, lexicon: Lexicon) -> None:
    """Spun articles write "equivalent to" and "together with" where others write "such as" and "including"."""
    claims = draft(f"Millions of people have autoimmune diseases, {cue} lupus and psoriasis.", lexicon)
    assert {t for t in triples(claims) if t[1] == "broader"} == {
        ("lupus", "broader", "autoimmune-disease"),
        ("psoriasis", "broader", "autoimmune-disease"),
    }


def test_a_paraphrased_procedure_step_is_a_step_of_the_therapy_and_never_a_subject(lexicon: Lexicon) -> None:
    """Procedure steps are paraphrased like outcomes ("harvesting ... stem cells" is stem cell harvesting), and
    words that paraphrase a step say what is done, not who does it: the step is no subject of what follows."""
    claims = draft("HSCT involves harvesting the patient's own stem cells, then chemotherapy.", lexicon)
    found = triples(claims)
    assert ("hematopoietic-stem-cell-transplantation", "hasStep", "stem-cell-harvesting") in found
    assert ("hematopoietic-stem-cell-transplantation", "hasStep", "chemotherapy") in found
    assert not [t for t in found if t[0] == "stem-cell-harvesting"], found


def test_a_run_on_sentence_pairs_mentions_only_with_their_neighbours(lexicon: Lexicon) -> None:
    """An article pasted without its full stops is one "sentence": pairing every mention with every other would
    take hours (a 24,000-character one took 208 s), so a subject is looked for within 60 words of its object."""
    filler = " ".join(["and then some more words"] * 10)  # 50 words
    assert triples(draft(f"HSCT {filler} helps lupus.", lexicon)) == {
        ("hematopoietic-stem-cell-transplantation", "investigatedFor", "lupus")
    }
    far = " ".join(["and then some more words"] * 14)  # 70 words
    assert triples(draft(f"HSCT {far} helps lupus.", lexicon)) == set()


def test_titles_and_questions_draft_nothing_but_set_the_topic(lexicon: Lexicon) -> None:
    text = (
        "MSC Therapy for Psoriasis in Adults\n"
        "Does HSCT Work for Multiple Sclerosis?\n"
        "MSC therapy is studied in trials for Crohn's disease.\n"
    )
    claims = draft(text, lexicon)
    assert ("msc-therapy", "investigatedFor", "crohns-disease") in triples(claims)
    assert all(c.start > text.index("?") for c in claims)
    # the title names what the next sentence talks about
    claim = only(
        draft("MSC Therapy for Psoriasis\nTrials report long-term remission.", lexicon),
        "hasOutcome",
        "long-term-remission",
    )
    assert claim.subject.iri == KGR + "msc-therapy"


def test_a_sentence_may_start_with_a_word_in_small_then_capital_letters() -> None:
    from kg.curation.draft.text import sentences

    text = "Skin cells can be reprogrammed. iPSCs can become nerve cells. mRNA is not a cell."
    assert [text[s.start : s.end] for s in sentences(text)] == [
        "Skin cells can be reprogrammed.",
        "iPSCs can become nerve cells.",
        "mRNA is not a cell.",
    ]


# quotes ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", [EXAMPLE, *sorted((ROOT.parent / "shared" / "sources").glob("*.txt"))], ids=lambda p: p.name
)
def test_every_quote_is_the_article_text_at_its_offsets(path: Path, lexicon: Lexicon) -> None:
    text = path.read_text(encoding="utf-8")
    claims = draft(text, lexicon)
    assert claims
    for c in claims:
        assert text[c.start : c.end] == c.quote and c.quote.strip() == c.quote and c.quote
        assert c.sentence[0] <= c.start < c.end <= c.sentence[1]
        if c.hedge_cue is not None:
            assert c.hedge_cue in text[c.sentence[0] : c.sentence[1]]


# commands on a copy of the ontology ----------------------------------------------------------------------------


@pytest.fixture
def ontology(tmp_path: Path) -> Path:
    copy = tmp_path / "ontology"
    shutil.copytree(ONTOLOGY, copy, ignore=shutil.ignore_patterns("drafts"))
    return copy


def kg(ontology: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KG_ONTOLOGY_DIR": str(ontology)}
    return subprocess.run(
        [sys.executable, "-m", "kg", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def draft_ids(ontology: Path) -> dict[str, tuple[str, str, str]]:
    import pyoxigraph as ox

    found: dict[str, dict[str, str]] = {}
    for t in ox.parse(path=str(ontology / "drafts" / "source-016.ttl"), format=ox.RdfFormat.TURTLE):
        found.setdefault(t.subject.value, {})[t.predicate.value] = t.object.value
    return {
        iri.removeprefix(KGR): (f[SCAD + "subject"], f[SCAD + "predicate"], f[SCAD + "object"])
        for iri, f in found.items()
        if SCAD + "subject" in f
    }


def test_draft_accept_reject_round_trip_leaves_the_graph_valid(ontology: Path) -> None:
    made = kg(ontology, "draft", str(EXAMPLE), "--source", "016", "--format", "tsv")
    assert made.returncode == 0, made.stderr
    assert (ontology / "drafts" / "source-016.review.tsv").read_text() == made.stdout
    ids = draft_ids(ontology)
    foundin = sorted(i for i, (_, p, _o) in ids.items() if p == SCAD + "foundIn")
    broader = sorted(i for i, (_, p, _o) in ids.items() if p == BROADER)
    assert len(foundin) == 2 and len(broader) == 2  # bone marrow and adipose tissue; psoriasis and Crohn's disease

    # the drafts folder is not part of the graph: validate, derive --check and stats see only the curated files
    before = kg(ontology, "stats", "--format", "json")
    assert kg(ontology, "validate", str(ontology), "--no-reasoner").returncode == 0
    assert kg(ontology, "derive", "--check").returncode == 0

    rejected = kg(
        ontology, "accept", str(ontology / "drafts" / "source-016.ttl"), "--reject", broader[0], "--reason", "test"
    )
    assert rejected.returncode == 0, rejected.stderr
    accepted = kg(ontology, "accept", str(ontology / "drafts" / "source-016.ttl"), "--only", ",".join(foundin))
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    claims = (ontology / "data" / "claims" / "source-016.ttl").read_text()
    assert "kgr:C016-001" in claims and "kgr:C016-002" in claims and "draft:" not in claims
    assert '"Mesenchymal stem cells (MSCs) are found in bone marrow and adipose tissue"' in claims
    texts = ontology.parent / "texts"
    texts.mkdir()
    shutil.copy(EXAMPLE, texts)
    for source in (ROOT.parent / "shared" / "sources").glob("*.txt"):
        shutil.copy(source, texts)
    if len(list(texts.iterdir())) > 1:  # the quote check needs every source's text
        checked = kg(ontology, "validate", str(ontology), "--sources", str(texts))
        assert checked.returncode == 0, checked.stdout + checked.stderr
    else:
        assert kg(ontology, "validate", str(ontology)).returncode == 0
    assert kg(ontology, "format", "--check", str(ontology)).returncode == 0
    assert kg(ontology, "derive", "--check").returncode == 0
    assert kg(ontology, "stats", "--format", "json").stdout != before.stdout

    # a second draft proposes neither the rejected claim nor the accepted ones again
    again = kg(ontology, "draft", str(EXAMPLE), "--source", "016", "--format", "tsv")
    assert again.returncode == 0, again.stderr
    redrafted = draft_ids(ontology)
    assert redrafted[broader[0]] == ids[broader[0]]  # kept, with its reason
    assert "rejected: test" in again.stdout
    pending = [t for i, t in redrafted.items() if i != broader[0]]
    assert ids[broader[0]] not in pending
    assert not [t for t in pending if t[1] == SCAD + "foundIn"]


def test_draft_refuses_to_overwrite_curator_edits_without_force(ontology: Path) -> None:
    assert kg(ontology, "draft", str(EXAMPLE), "--source", "016").returncode == 0
    path = ontology / "drafts" / "source-016.ttl"
    path.write_text(path.read_text().replace("scad:Asserted", "scad:Hedged", 1))
    refused = kg(ontology, "draft", str(EXAMPLE), "--source", "016")
    assert refused.returncode == 2 and "curator edits" in refused.stderr
    assert "scad:Hedged" in path.read_text()
    assert kg(ontology, "draft", str(EXAMPLE), "--source", "016", "--force").returncode == 0


def test_bad_input_is_refused_with_the_reason(ontology: Path) -> None:
    bad_number = kg(ontology, "draft", str(EXAMPLE), "--source", "16")
    assert bad_number.returncode == 2 and "--source '16': expected three digits" in bad_number.stderr
    bad_url = kg(ontology, "draft", str(EXAMPLE), "--source", "016", "--url", "not a url")
    assert bad_url.returncode == 2 and "--url 'not a url': expected an http:// or https:// address" in bad_url.stderr
    missing = kg(ontology, "draft", str(EXAMPLE.parent / "nope.txt"), "--source", "016")
    assert missing.returncode == 2 and "nope.txt: cannot be read" in missing.stderr
    assert kg(ontology, "draft", str(EXAMPLE), "--source", "016").returncode == 0
    unknown = kg(ontology, "accept", str(ontology / "drafts" / "source-016.ttl"), "--only", "D016-999")
    assert unknown.returncode == 2 and "--only 'D016-999': no such claim" in unknown.stderr
    assert not (ontology / "data" / "claims" / "source-016.ttl").exists()


def test_a_cue_file_kind_the_ontology_lacks_is_refused(ontology: Path) -> None:
    cues = ontology / "draft-cues.yaml"
    cues.write_text(
        cues.read_text().replace("not_subject: [ConventionalTreatment]", "not_subject: [ConventionalTreatmnt]")
    )
    typo = kg(ontology, "draft", str(EXAMPLE), "--source", "016")
    assert typo.returncode == 2
    assert (
        "relations: scad:hasChallenge: not_subject: 'ConventionalTreatmnt' is not a class of the ontology"
        in typo.stderr
    )
    assert not (ontology / "drafts" / "source-016.ttl").exists()
    cues.write_text(
        cues.read_text().replace("not_subject: [ConventionalTreatmnt]", "not_subject: ConventionalTreatment")
    )
    bare = kg(ontology, "draft", str(EXAMPLE), "--source", "016")
    assert bare.returncode == 2
    assert "not_subject: 'ConventionalTreatment' is not a list of kinds, such as [Therapy]" in bare.stderr


@pytest.mark.parametrize(
    ("written", "instead", "message"),
    [
        # a bare word would be read as its letters: "c", "a", "n" ... equivalent to each other
        ('  - ["cannot", "inability", "unable"]', "  - cannot", "equivalents: 'cannot' is not a list of words"),
        ("not_subject: [ConventionalTreatment]", "not_subject: [123]", "not_subject: [123] is not a list of kinds"),
        (
            "    subject: [Therapy]\n    not_subject: [ConventionalTreatment]",
            "    not_subject: [ConventionalTreatment]",
            "relations: scad:hasChallenge: subject is missing",
        ),
        (
            "    prior: 0.6\n  scad:hasLimitation",
            "    prior: high\n  scad:hasLimitation",
            "relations: scad:hasChallenge: prior: 'high' is not a number",
        ),
    ],
)
def test_a_cue_file_of_the_wrong_shape_is_refused_naming_the_field(
    written: str, instead: str, message: str, tmp_path: Path
) -> None:
    from kg.curation.draft.cues import CueError

    text = (ONTOLOGY / "draft-cues.yaml").read_text(encoding="utf-8")
    assert written in text
    path = tmp_path / "draft-cues.yaml"
    path.write_text(text.replace(written, instead), encoding="utf-8")
    with pytest.raises(CueError, match=re.escape(message)):
        read_cues(path)


def test_a_broken_draft_does_not_break_the_graph(ontology: Path) -> None:
    drafts = ontology / "drafts"
    drafts.mkdir()
    (drafts / "source-099.ttl").write_text("this is not Turtle")
    assert drafts / "source-099.ttl" not in turtle_files([ontology])
    assert turtle_files([drafts]) == [drafts / "source-099.ttl"]  # named explicitly, a draft is read
    assert not read_sources([ontology], ontology).errors
    assert kg(ontology, "validate", str(ontology), "--no-reasoner").returncode == 0
    assert kg(ontology, "format", "--check", str(ontology)).returncode == 0


def test_drafts_stay_out_of_stats_build_release_and_the_served_graph(ontology: Path, tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from kg.app import create_app
    from kg.settings import Settings

    before = kg(ontology, "stats", "--format", "json").stdout
    assert kg(ontology, "draft", str(EXAMPLE), "--source", "016").returncode == 0
    assert "kgr:D016-001" in (ontology / "drafts" / "source-016.ttl").read_text()
    assert kg(ontology, "stats", "--format", "json").stdout == before
    assert kg(ontology, "derive", "--check").returncode == 0
    needs_shared_sources()
    released = kg(ontology, "release", "-o", str(tmp_path / "dist"), "--sources", str(SOURCES), "--allow-dirty")
    assert released.returncode == 0, released.stderr
    assert "/draft#" not in (tmp_path / "dist" / "graph.nq").read_text()
    built = kg(ontology, "build", "--store", str(tmp_path / "store"), "--no-reasoner")
    assert built.returncode == 0, built.stderr
    ask = "ASK { { ?c <https://w3id.org/scad/draft#status> ?s } UNION { <https://w3id.org/scad/id/D016-001> ?p ?o } }"
    with TestClient(create_app(Settings(ontology_dir=ontology))) as client:
        answer = client.get("/sparql", params={"query": ask}, headers={"Accept": "application/sparql-results+json"})
        assert answer.status_code == 200 and answer.json()["boolean"] is False
        known = client.get("/sparql", params={"query": "ASK { <https://w3id.org/scad/id/C004-001> ?p ?o }"})
        assert known.status_code == 200 and known.json()["boolean"] is True


def test_the_readme_curating_session_is_what_kg_prints(tmp_path: Path) -> None:
    """The session the README shows, run command by command on a copy of the ontology: each printed line as the
    README has it ("..." stands for lines left out), so the README cannot drift from what `kg` does."""
    import shlex

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("```console", readme.index("A session on the example article of the tests"))
    block = readme[start:].split("\n", 1)[1].split("\n```", 1)[0].splitlines()
    shutil.copytree(ONTOLOGY, tmp_path / "ontology", ignore=shutil.ignore_patterns("drafts"))
    shutil.copytree(EXAMPLE.parent, tmp_path / "tests" / "data" / "draft")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")} | {"KG_ONTOLOGY_DIR": "ontology"}
    commands = [k for k, line in enumerate(block) if line.startswith("$ ")]
    assert len(commands) == 5, block
    for k, end in zip(commands, [*commands[1:], len(block)], strict=True):
        command, _, cut = block[k][2:].partition(" | cut -f")
        words = shlex.split(command)
        assert words[0] == "kg", command
        run = subprocess.run(
            [sys.executable, "-m", "kg", *words[1:]], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )
        assert run.returncode == 0, (command, run.stderr)
        out = run.stdout.splitlines()
        if cut:
            fields = [int(f) - 1 for f in cut.split(",")]
            out = [
                "\t".join(parts[f] for f in fields if f < len(parts)) for parts in (line.split("\t") for line in out)
            ]
        printed = [line.rstrip() for line in out + run.stderr.splitlines()]
        _assert_lines(block[k + 1 : end], printed, command)


def _assert_lines(expected: list[str], printed: list[str], command: str) -> None:
    """``printed`` is ``expected`` where each "..." line stands for one or more lines."""
    at = 0
    pieces: list[list[str]] = [[]]
    for line in expected:
        if line == "...":
            pieces.append([])
        else:
            pieces[-1].append(line.rstrip())
    for n, piece in enumerate(pieces):
        if n == 0:
            assert printed[: len(piece)] == piece, (command, printed)
            at = len(piece)
            continue
        found = next(
            (i for i in range(at + 1, len(printed) - len(piece) + 1) if printed[i : i + len(piece)] == piece), None
        )
        assert found is not None, (command, piece, printed[at:])
        at = found + len(piece)
    assert at == len(printed), (command, printed[at:])
