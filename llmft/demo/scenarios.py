"""The twelve everyday scenarios of the demo dialogues (`llmft.demo.dialogues`), and the words they draw on.

Each scenario takes a `random.Random` and returns (turns, summary, topic): four to nine `#PersonN#:` turns, a
summary that follows what the turns say (a table full at eight and taken at nine, an invitation declined), with
the speakers named as DialogSum names them, and a DialogSum-style topic.
"""

from __future__ import annotations

import random
from collections.abc import Callable

NAMES = (
    "Anna Ben Chloe David Emma Frank Grace Henry Iris Jack Kate Leo Maria Nick Olivia Peter Rachel Sam Tina Victor "
    "Wendy Tom Lucy Mike Sarah James Linda Steven Amy Bill Helen Paul Susan Mark Julia Daniel Karen"
).split()
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
WHEN = ["tonight", "tomorrow", "this weekend", "next week", *[f"on {day}" for day in DAYS]]

Scenario = Callable[[random.Random], tuple[list[str], str, str]]


def _p(rng: random.Random, *options: str) -> str:
    return rng.choice(options)


def _hours(rng: random.Random) -> int:
    return rng.choice([6, 7, 8, 9])


def restaurant(rng: random.Random) -> tuple[list[str], str, str]:
    name, people, hour, day = rng.choice(NAMES), rng.randint(2, 8), _hours(rng), rng.choice(DAYS)
    full = rng.random() < 0.4
    greeting, place = _p(rng, "Good afternoon", "Hello", "Good evening"), _p(rng, "Luigi", "Golden Dragon", "Blue")
    turns = [
        f"#Person2#: {greeting}, {place} restaurant. How can I help you?",
        f"#Person1#: I'd like to book a table for {people} on {day}, please.",
        "#Person2#: What time would you like?",
        f"#Person1#: At {hour} o'clock.",
    ]
    if full:
        turns += [
            f"#Person2#: I'm sorry, we're fully booked at {hour}. We have a table at {hour + 1}.",
            f"#Person1#: All right, {hour + 1} is fine.",
        ]
    turns += ["#Person2#: May I have your name?", f"#Person1#: It's {name}."]
    if rng.random() < 0.5:
        turns += ["#Person2#: Would you like a table by the window?", "#Person1#: Yes, that would be lovely."]
    turns.append(f"#Person2#: Thank you, {name}. See you on {day}.")
    at = hour + 1 if full else hour
    why = f" because {hour} o'clock is full" if full else ""
    return (
        turns,
        f"#Person1# books a table for {people} people at {at} o'clock on {day} under the name {name}{why}.",
        "booking",
    )


def shopping(rng: random.Random) -> tuple[list[str], str, str]:
    item, price = rng.choice(
        [
            ("coat", 120),
            ("pair of shoes", 80),
            ("phone", 300),
            ("dress", 60),
            ("watch", 150),
            ("bag", 45),
            ("jacket", 90),
            ("laptop", 700),
        ]
    )
    colour = rng.choice(["black", "blue", "red", "brown", "white", "green"])
    discount = rng.choice([0, 10, 20])
    buys = rng.random() < 0.6
    turns = [
        "#Person1#: Excuse me, can you help me?",
        "#Person2#: Of course. What are you looking for?",
        f"#Person1#: I'm looking for a {colour} {item}.",
        f"#Person2#: How about this one? It's {price} dollars.",
    ]
    if discount:
        turns.append(f"#Person2#: And it's {discount} percent off this week.")
    if buys:
        turns += [
            "#Person1#: It looks nice. Can I try it?",
            "#Person2#: Sure, go ahead.",
            f"#Person1#: {_p(rng, 'I will take it', 'Great, I will buy it')}. Can I pay by card?",
            "#Person2#: Yes, of course.",
        ]
        summary = f"#Person1# buys a {colour} {item} for {price} dollars"
        summary += f" with a {discount} percent discount." if discount else "."
    else:
        turns += [
            f"#Person1#: Hmm, that's too {_p(rng, 'expensive', 'much')} for me. Do you have anything cheaper?",
            "#Person2#: I'm afraid not.",
            "#Person1#: Then I'll think about it. Thank you.",
        ]
        summary = f"#Person1# wants a {colour} {item} but thinks {price} dollars is too expensive and does not buy it."
    return turns, summary, "shopping"


def invitation(rng: random.Random) -> tuple[list[str], str, str]:
    friend, event, day = (
        rng.choice(NAMES),
        rng.choice(["a movie", "a concert", "dinner", "a football match", "a party", "the museum"]),
        rng.choice(DAYS),
    )
    busy = rng.random() < 0.4
    other = rng.choice([d for d in DAYS if d != day])
    turns = [
        f"#Person1#: Hi {friend}, are you free on {day}?",
        "#Person2#: I think so. Why?",
        f"#Person1#: Would you like to go to {event} with me?",
    ]
    if busy:
        reason = rng.choice(["I have to work late", "my parents are visiting", "I have an exam"])
        turns += [
            f"#Person2#: Oh, I'm sorry, {reason} on {day}.",
            f"#Person1#: What about {other}?",
            f"#Person2#: {other} is fine. Let's go then.",
        ]
        summary = f"#Person1# invites {friend} to {event}. {friend} is busy on {day}, so they will go on {other}."
    else:
        hour = _hours(rng)
        turns += [
            "#Person2#: I'd love to. What time?",
            f"#Person1#: Let's meet at {hour}.",
            "#Person2#: Great, see you then.",
        ]
        summary = f"#Person1# invites {friend} to {event} on {day} and they will meet at {hour}."
    return turns, summary, "invitation"


def directions(rng: random.Random) -> tuple[list[str], str, str]:
    place = rng.choice(
        ["the train station", "the post office", "the city museum", "the nearest bank", "the hospital", "the library"]
    )
    turn, minutes = rng.choice(["left", "right"]), rng.randint(2, 15)
    turns = [
        f"#Person1#: Excuse me, how do I get to {place}?",
        f"#Person2#: Go straight and turn {turn} at the {_p(rng, 'second', 'first', 'next')} corner.",
        "#Person1#: Is it far?",
        f"#Person2#: No, it's about {minutes} minutes on foot.",
    ]
    if rng.random() < 0.5:
        turns += ["#Person1#: Can I take a bus?", f"#Person2#: Yes, the number {rng.randint(3, 40)} bus goes there."]
    turns.append("#Person1#: Thank you very much.")
    return (
        turns,
        f"#Person2# tells #Person1# how to get to {place}: turn {turn}, about {minutes} minutes on foot.",
        "directions",
    )


def interview(rng: random.Random) -> tuple[list[str], str, str]:
    name, job, years = (
        rng.choice(NAMES),
        rng.choice(["sales manager", "teacher", "engineer", "nurse", "accountant", "secretary"]),
        rng.randint(1, 10),
    )
    start = rng.choice(["next month", "in two weeks", "immediately", "on Monday"])
    turns = [
        f"#Person1#: Good morning, {name}. Please sit down.",
        "#Person2#: Thank you.",
        f"#Person1#: Why do you want to work here as a {job}?",
        f"#Person2#: I have {years} years of experience and I like working with people.",
        "#Person1#: When could you start?",
        f"#Person2#: I could start {start}.",
    ]
    if rng.random() < 0.5:
        turns += ["#Person1#: What salary do you expect?", f"#Person2#: About {rng.randint(3, 9)} thousand a month."]
    return (
        turns,
        f"{name} has an interview for a {job} job, has {years} years of experience and can start {start}.",
        "interview",
    )


def doctor(rng: random.Random) -> tuple[list[str], str, str]:
    problem, days = (
        rng.choice(["a headache", "a bad cough", "a fever", "a sore throat", "a stomach ache"]),
        rng.randint(2, 7),
    )
    advice = rng.choice(
        ["rest and drink a lot of water", "take this medicine three times a day", "stay in bed", "come back next week"]
    )
    turns = [
        "#Person1#: What seems to be the problem?",
        f"#Person2#: I've had {problem} for {days} days, doctor.",
        "#Person1#: Do you have any other symptoms?",
        f"#Person2#: {_p(rng, 'No, not really', 'I feel tired')}.",
        f"#Person1#: It's nothing serious. You should {advice}.",
        "#Person2#: Thank you, doctor.",
    ]
    return (
        turns,
        f"#Person2# has had {problem} for {days} days, and the doctor says #Person2# should {advice}.",
        "health",
    )


def hotel(rng: random.Random) -> tuple[list[str], str, str]:
    name, nights, room = rng.choice(NAMES), rng.randint(1, 6), rng.choice(["single", "double", "twin"])
    floor, breakfast = rng.randint(2, 12), rng.choice([6, 7, 8])
    turns = [
        "#Person1#: Good evening. I have a reservation.",
        "#Person2#: May I have your name, please?",
        f"#Person1#: {name}. A {room} room for {nights} nights.",
        f"#Person2#: Yes, here it is. Your room is on the {floor}th floor.",
        "#Person1#: When is breakfast?",
        f"#Person2#: From {breakfast} to ten in the restaurant.",
    ]
    return (
        turns,
        f"{name} checks in to a {room} room on the {floor}th floor for {nights} nights; breakfast is at {breakfast}.",
        "hotel",
    )


def ticket(rng: random.Random) -> tuple[list[str], str, str]:
    city, kind = (
        rng.choice(["London", "Paris", "Boston", "Beijing", "Chicago", "Berlin", "Rome"]),
        rng.choice(["one-way", "return"]),
    )
    price, hour = rng.randint(20, 150), rng.randint(6, 11)
    turns = [
        f"#Person1#: A {kind} ticket to {city}, please.",
        f"#Person2#: That's {price} dollars.",
        "#Person1#: When does the next train leave?",
        f"#Person2#: At {hour} o'clock from platform {rng.randint(1, 9)}.",
    ]
    if rng.random() < 0.5:
        turns += ["#Person1#: Is there a dining car?", "#Person2#: Yes, in the middle of the train."]
    return turns, f"#Person1# buys a {kind} ticket to {city} for {price} dollars; the train leaves at {hour}.", "travel"


def weekend(rng: random.Random) -> tuple[list[str], str, str]:
    friend = rng.choice(NAMES)
    did = rng.choice(
        [
            "went hiking in the mountains",
            "visited my grandparents",
            "painted my kitchen",
            "watched films all day",
            "went swimming at the lake",
            "cooked for my friends",
        ]
    )
    felt = rng.choice(["tired", "happy", "relaxed", "bored"])
    turns = [
        f"#Person1#: Hi {friend}, how was your weekend?",
        f"#Person2#: It was good. I {did}.",
        "#Person1#: That sounds nice. How do you feel now?",
        f"#Person2#: A bit {felt}, to be honest.",
    ]
    summary = f"{friend} {did.replace('my ', 'their ')} at the weekend and feels {felt}."
    return turns, summary, "weekend"


def apartment(rng: random.Random) -> tuple[list[str], str, str]:
    rooms, rent, day = rng.randint(1, 4), rng.choice([600, 800, 950, 1200, 1500]), rng.choice(DAYS)
    pets = rng.random() < 0.5
    turns = [
        f"#Person1#: I'm calling about the {rooms}-bedroom apartment.",
        f"#Person2#: Yes, it's {rent} dollars a month.",
        "#Person1#: Are pets allowed?",
        f"#Person2#: {'Yes, small pets are fine' if pets else 'No, I am afraid not'}.",
        f"#Person1#: Could I see it on {day}?",
        "#Person2#: Sure, come at noon.",
    ]
    pet = "pets are allowed" if pets else "no pets are allowed"
    return (
        turns,
        f"#Person1# will see the {rooms}-bedroom apartment on {day}; it costs {rent} dollars a month and {pet}.",
        "housing",
    )


def lost_item(rng: random.Random) -> tuple[list[str], str, str]:
    item, place = (
        rng.choice(["wallet", "keys", "umbrella", "passport", "bag"]),
        rng.choice(["on the bus", "in the park", "at the cinema", "in a taxi"]),
    )
    found = rng.random() < 0.5
    turns = [
        f"#Person1#: I think I lost my {item} {place}.",
        f"#Person2#: What does your {item} look like?",
        f"#Person1#: It's {rng.choice(['black', 'brown', 'small', 'old'])}. I lost it {rng.choice(WHEN[:2])}.",
    ]
    if found:
        turns += [f"#Person2#: Is this your {item}? Someone brought it in.", "#Person1#: Yes! Thank you so much."]
        summary = f"#Person1# lost a {item} {place}, and #Person2# has it."
    else:
        turns += ["#Person2#: Nobody has brought it in yet. Please leave your phone number.", "#Person1#: All right."]
        summary = f"#Person1# lost a {item} {place}; it has not been found, so #Person1# leaves a phone number."
    return turns, summary, "lost and found"


def complaint(rng: random.Random) -> tuple[list[str], str, str]:
    item, fault = (
        rng.choice(["toaster", "radio", "camera", "kettle", "lamp"]),
        rng.choice(["does not work", "is broken", "makes a noise"]),
    )
    refund = rng.random() < 0.5
    turns = [
        f"#Person1#: I bought this {item} last week, but it {fault}.",
        "#Person2#: Do you have the receipt?",
        "#Person1#: Yes, here it is.",
        f"#Person2#: {'We can give you your money back' if refund else 'We can give you a new one'}.",
        "#Person1#: Thank you.",
    ]
    outcome = "gets a refund" if refund else "gets a new one"
    return turns, f"#Person1# returns a {item} that {fault} and {outcome}.", "complaint"


SCENARIOS: list[Scenario] = [
    restaurant,
    shopping,
    invitation,
    directions,
    interview,
    doctor,
    hotel,
    ticket,
    weekend,
    apartment,
    lost_item,
    complaint,
]
