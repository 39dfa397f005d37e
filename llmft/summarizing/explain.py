"""Why a summary says what it says: the decoder's cross-attention, per summary sentence, over the dialogue's turns.

The summary is fed back to the model (teacher forcing: one forward pass with the summary as the
decoder's input), and the cross-attention that produced each summary token is read out, averaged over
all layers and heads. Encoder tokens are mapped to the dialogue's turns (its lines) through the
tokenizer's character offsets; tokens of the instruction and the `Summary:` cue belong to no turn.
Per summary sentence, the attention of its tokens is summed per turn and normalised, so the weights
over the turns sum to 1; `dialogue_share` says how much of that sentence's attention fell on the
dialogue at all (the rest went to the prompt's template and the end-of-sequence token).

Attention is a view of where the model looked, not a proof of why it wrote something; the page says so.
Only `/explain` pays for this pass; summarising never asks for attentions.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from llmft.errors import PromptError
from llmft.models import LoadedModel
from llmft.prompts import MAX_SOURCE_TOKENS, fit_prompt

_SENTENCE = re.compile(r"[^.!?]+(?:[.!?]+|$)")


@dataclass
class SentenceEvidence:
    sentence: str
    turn_weights: list[float]  # one per turn, summing to 1
    top_turn: int  # index of the turn with the most weight
    dialogue_share: float  # share of the sentence's cross-attention that fell on dialogue tokens


@dataclass
class Explanation:
    variant: str
    summary: str
    turns: list[str]
    sentences: list[SentenceEvidence]
    prompt_tokens: int
    turns_cut: int  # turns left out (wholly) because the dialogue was cut to fit the encoder

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summary_sentences(summary: str) -> list[tuple[int, int]]:
    """Character spans of the summary's sentences (text up to `.`, `!` or `?`), whitespace trimmed."""
    spans = []
    for match in _SENTENCE.finditer(summary):
        start, end = match.span()
        text = match.group()
        start += len(text) - len(text.lstrip())
        end -= len(text) - len(text.rstrip())
        if end > start:
            spans.append((start, end))
    return spans


def turn_spans(prompt: str, dialogue: str) -> list[tuple[int, int]]:
    """Character spans, in `prompt`, of the dialogue's turns (its non-empty lines) that the prompt holds.

    The prompt may hold only the start of the dialogue (cut to fit), so turns are matched in order,
    character by character, and the last one may be partial; turns past the cut get no span.
    """
    turns = [line.strip() for line in dialogue.strip().splitlines() if line.strip()]
    if not turns:
        return []
    head = turns[0][:40]
    cursor = prompt.find(head)
    while cursor < 0 and len(head) > 1:  # the first turn itself was cut short
        head = head[: len(head) // 2]
        cursor = prompt.find(head)
    spans: list[tuple[int, int]] = []
    for turn in turns:
        if cursor < 0 or cursor >= len(prompt):
            break
        while cursor < len(prompt) and prompt[cursor].isspace():
            cursor += 1
        matched = 0
        while matched < len(turn) and cursor + matched < len(prompt) and prompt[cursor + matched] == turn[matched]:
            matched += 1
        if matched == 0:
            break
        spans.append((cursor, cursor + matched))
        cursor += matched
        if matched < len(turn):
            break
    return spans


@contextmanager
def eager_attention(model: Any) -> Iterator[None]:
    """Eager attention while inside: the fused (sdpa) kernels do not return attention weights.

    The caller holds the model's lock (`Variant.active`), so no other request runs on it meanwhile.
    """
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    before = inner.config._attn_implementation
    if before == "eager":
        yield
        return
    inner.set_attn_implementation("eager")
    try:
        yield
    finally:
        inner.set_attn_implementation(before)


def explain_summary(
    loaded: LoadedModel, dialogue: str, summary: str, variant: str = "", max_tokens: int = MAX_SOURCE_TOKENS
) -> Explanation:
    """Cross-attention evidence of `summary` (as `loaded` would produce it from `dialogue`), per sentence."""
    import torch

    if not summary.strip():
        raise PromptError("The summary is empty: there is nothing to explain.")
    tokenizer, model = loaded.tokenizer, loaded.model
    fitted = fit_prompt(tokenizer, dialogue, max_tokens=max_tokens)
    turns = [line.strip() for line in dialogue.strip().splitlines() if line.strip()]
    spans = turn_spans(fitted.text, dialogue)
    source = tokenizer(fitted.text, return_offsets_mapping=True, truncation=True, max_length=max_tokens)
    target = tokenizer(summary, return_offsets_mapping=True, truncation=True, max_length=max_tokens)

    # turn_of[j]: the turn encoder token j belongs to, by its first character (-1: the template, </s>).
    turn_of = []
    for start, end in source["offset_mapping"]:
        owner = next((t for t, (a, b) in enumerate(spans) if end > start and a <= start < b), -1)
        turn_of.append(owner)
    membership = torch.zeros(len(spans), len(turn_of))
    for j, owner in enumerate(turn_of):
        if owner >= 0:
            membership[owner, j] = 1.0
    if not spans or membership.sum() == 0:
        raise PromptError("No dialogue turn reached the model's input, so there is nothing to attribute to.")

    device = next(model.parameters()).device
    with torch.inference_mode(), eager_attention(model):
        output = model(
            input_ids=torch.tensor([source["input_ids"]], device=device),
            attention_mask=torch.tensor([source["attention_mask"]], device=device),
            labels=torch.tensor([target["input_ids"]], device=device),
            output_attentions=True,
        )
    if not output.cross_attentions or output.cross_attentions[0] is None:
        raise PromptError(f"Model '{loaded.source}' does not return cross-attention, so it cannot be explained.")
    # (layers, batch, heads, target, source) -> (target, source): the mean over layers and heads.
    attention = torch.stack([layer.float() for layer in output.cross_attentions]).mean(dim=(0, 2))[0].cpu()
    per_turn = attention @ membership.T  # (target, turns)

    sentences = []
    for start, end in summary_sentences(summary):
        rows = [i for i, (a, b) in enumerate(target["offset_mapping"]) if b > a and start <= a < end]
        if not rows:
            continue
        weights = per_turn[rows].sum(dim=0)
        total = float(weights.sum())
        shares = (weights / total).tolist() if total > 0 else [1.0 / len(spans)] * len(spans)
        sentences.append(
            SentenceEvidence(
                sentence=summary[start:end],
                turn_weights=[round(w, 6) for w in shares],
                top_turn=max(range(len(shares)), key=shares.__getitem__),
                dialogue_share=round(total / float(attention[rows].sum()), 6),
            )
        )
    return Explanation(
        variant=variant or loaded.source,
        summary=summary,
        turns=turns[: len(spans)],
        sentences=sentences,
        prompt_tokens=len(source["input_ids"]),
        turns_cut=len(turns) - len(spans),
    )


def evidence_html(explanation: Explanation) -> str:
    """Per summary sentence, the dialogue's turns shaded by how much of the sentence's attention they got."""
    blocks = []
    for number, sentence in enumerate(explanation.sentences, start=1):
        top = max(sentence.turn_weights) or 1.0
        lines = []
        for turn, weight in zip(explanation.turns, sentence.turn_weights, strict=True):
            alpha = 0.08 + 0.72 * weight / top  # the strongest turn darkest; every turn still readable
            lines.append(
                f'<div class="turn" style="background: rgba(255, 170, 0, {alpha:.2f}); padding: 2px 6px; '
                f'margin: 1px 0; border-radius: 4px; color: #111;"><b>{100 * weight:.0f}%</b> '
                f"{html.escape(turn)}</div>"
            )
        blocks.append(
            f'<div class="sentence" style="margin-bottom: 12px;"><div><b>Sentence {number}:</b> '
            f"{html.escape(sentence.sentence)} <small>({100 * sentence.dialogue_share:.0f}% of its attention on "
            f"the dialogue)</small></div>{''.join(lines)}</div>"
        )
    if explanation.turns_cut:
        blocks.append(f"<p><small>{explanation.turns_cut} turn(s) past the model's 512-token input are not shown."
                      "</small></p>")
    return "\n".join(blocks) or "<p>No sentence to explain.</p>"
