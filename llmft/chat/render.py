"""What the Shopbot's page shows under an answer: product cards (title, price, id) and document passages (file,
section), plus the notices, as HTML with every store and shopper string escaped."""

from __future__ import annotations

from html import escape

from llmft.chat.bot import Reply

STATUS_WORDS = {
    "grounded": "✅ checked: every price, product and figure is in the sources",
    "replaced": "⚠️ the model's answer was replaced by the answer from the store's data",
    "retrieval-only": "⚠️ no model answered: results from the store's data",
    "no-model": "ℹ️ no model configured: results from the store's data",
    "streaming": "… writing",
}


def reply_markdown(reply: Reply) -> str:
    """The chat message: the answer, then the notices in italics."""
    notes = "".join(f"\n\n_{n}_" for n in reply.notices)
    return f"{reply.text}{notes}"


def sources_html(reply: Reply) -> str:
    cards = []
    for source in reply.sources.items:
        if source.kind == "product":
            price = f"${source.price:,.2f}" if source.price is not None else "price not listed"
            cards.append(
                f'<div class="shop-card product" data-id="{escape(source.id)}"><b>{escape(source.title)}</b>'
                f'<br><span class="price">{price}</span> · id <code>{escape(source.id)}</code>'
                f'<br><small>{escape(source.reason)}</small></div>')
        else:
            cards.append(
                f'<div class="shop-card document"><b>{escape(source.file or "")}</b> · section '
                f'{escape(source.section or "")}<br><small>{escape(" ".join(source.text.split())[:240])}</small></div>')
    status = STATUS_WORDS.get(reply.status, reply.status)
    note = f"<p><i>{escape(reply.sources.note)}</i></p>" if reply.sources.note else ""
    body = "".join(cards) or "<p>No sources: nothing in the store matched.</p>"
    return (f'<div class="shop-sources"><p class="shop-status">{escape(status)} · backend: '
            f'{escape(reply.backend)}</p>{note}<div class="shop-cards">{body}</div></div>')
