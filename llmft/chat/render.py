"""What the Shopbot's page shows under an answer: the cards of the sources it cites, numbered as its [n] markers
(product cards: title, price, id; document passages: file, section), the status and the notices, as HTML with
every store and shopper string escaped."""

from __future__ import annotations

from html import escape

from llmft.chat.bot import Reply

STATUS_WORDS = {
    "grounded": "✅ checked: the model's wording keeps the products, figures and yes/no computed from the store's data",
    "replaced": "⚠️ the model's wording was set aside: this is the answer computed from the store's data",
    "retrieval-only": "⚠️ no model answered: this is the answer computed from the store's data",
    "no-model": "ℹ️ no model configured: this is the answer computed from the store's data",
    "streaming": "… writing",
}


def reply_markdown(reply: Reply) -> str:
    """The chat message: the answer, then the notices in italics."""
    notes = "".join(f"\n\n_{n}_" for n in reply.notices)
    return f"{reply.text}{notes}"


def sources_html(reply: Reply) -> str:
    """The cards under the answer, numbered as the answer cites them: [1] is the first card."""
    cards = []
    for n, source in enumerate(reply.sources.items, start=1):
        number = f'<span class="cite">[{n}]</span> '
        if source.kind == "product":
            price = f"${source.price:,.2f}" if source.price is not None else "price not listed"
            cards.append(
                f'<div class="shop-card product" id="source-{n}" data-id="{escape(source.id)}">{number}'
                f'<b>{escape(source.title)}</b><br><span class="price">{price}</span> · id <code>{escape(source.id)}'
                f'</code><br><small>{escape(source.reason)}</small></div>')
        else:
            cards.append(
                f'<div class="shop-card document" id="source-{n}">{number}<b>{escape(source.file or "")}</b> · section '
                f'{escape(source.section or "")}<br><small>{escape(" ".join(source.text.split())[:240])}</small></div>')
    status = STATUS_WORDS.get(reply.status, reply.status)
    note = f"<p><i>{escape(reply.sources.note)}</i></p>" if reply.sources.note else ""
    body = "".join(cards) or "<p>No sources: nothing in the store matched.</p>"
    return (f'<div class="shop-sources"><p class="shop-status">{escape(status)} · backend: '
            f'{escape(reply.backend)}</p>{note}<div class="shop-cards">{body}</div></div>')
