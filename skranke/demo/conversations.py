"""What the demo customers write about, and what the agents answer.

One entry per category: the team it is routed to, the case types and tags it tends to get,
and subjects and message bodies in bokmål and English. Placeholders in braces are filled in
by the generator: {order}, {invoice}, {product}, {amount}, {date}, {tracking}, {agent}.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PRODUCTS_NB = (
    "vaskemaskinen",
    "kaffemaskinen",
    "støvsugeren",
    "mobilen",
    "nettbrettet",
    "routeren",
    "høretelefonene",
    "sykkelen",
    "vinterjakken",
    "sofaen",
    "kjøleskapet",
    "TV-en",
    "mikrobølgeovnen",
    "printeren",
    "smartklokken",
    "barnevognen",
    "løpeskoene",
)
PRODUCTS_EN = (
    "washing machine",
    "coffee machine",
    "vacuum cleaner",
    "phone",
    "tablet",
    "router",
    "headphones",
    "bicycle",
    "winter jacket",
    "sofa",
    "fridge",
    "TV",
    "printer",
    "smartwatch",
)


@dataclass(frozen=True)
class Topic:
    name: str
    team: str
    types: dict[str, int]
    tags: tuple[str, ...]
    weight: int
    subjects_nb: tuple[str, ...]
    subjects_en: tuple[str, ...]
    openings_nb: tuple[str, ...]
    openings_en: tuple[str, ...]
    replies_nb: tuple[str, ...]
    replies_en: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())


TEAMS = (
    ("Kundeservice", "kundeservice", "Første linje: alt som kommer inn, og det meste løses her."),
    ("Teknisk støtte", "teknisk-stotte", "Feilsøking, konto og innlogging, app og nettbutikk."),
    ("Faktura", "faktura", "Fakturaer, betaling, purringer og kreditnotaer."),
    ("Retur og reklamasjon", "retur-og-reklamasjon", "Returer, angrerett og reklamasjoner."),
)

TOPICS = (
    Topic(
        name="Faktura",
        team="Faktura",
        types={"question": 65, "complaint": 20, "task": 15},
        tags=("purring", "kreditnota", "avbetaling", "efaktura", "inkasso", "b2b"),
        weight=16,
        subjects_nb=(
            "Spørsmål om faktura {invoice}",
            "Feil beløp på fakturaen",
            "Purring på faktura jeg har betalt",
            "Har betalt to ganger",
            "Ønsker eFaktura",
            "Kan jeg dele opp betalingen?",
            "Faktura {invoice} – forfallsdato",
            "Gebyr på fakturaen?",
            "Mangler kreditnota",
        ),
        subjects_en=(
            "Question about invoice {invoice}",
            "Charged twice",
            "Wrong amount on my invoice",
        ),
        openings_nb=(
            "Jeg har fått faktura {invoice} på {amount} kr, men det stemmer ikke med ordren min ({order}). Kan dere se på det?",
            "Jeg fikk en purring i dag, men fakturaen ble betalt {date}. Jeg har kvittering fra nettbanken.",
            "Det ser ut som jeg har blitt trukket to ganger for ordre {order}. Kan dere refundere det ene beløpet?",
            "Er det mulig å få utsatt betalingen på faktura {invoice} til neste måned?",
            "Hvorfor er det lagt på et fakturagebyr? Jeg valgte eFaktura da jeg bestilte.",
        ),
        openings_en=(
            "I received invoice {invoice} for NOK {amount}, but that does not match my order {order}. Could you check?",
            "I seem to have been charged twice for order {order}. Please refund one of the payments.",
        ),
        replies_nb=(
            "Takk for at du tok kontakt. Jeg har sett på faktura {invoice}, og beløpet var dessverre feil. Vi har sendt deg en kreditnota på {amount} kr.",
            "Vi har registrert innbetalingen din {date}, så purringen kan du se bort fra. Beklager bryderiet!",
            "Jeg har satt fakturaen på vent i 30 dager, så du får ingen purring i mellomtiden.",
            "Den doble betalingen er tilbakeført og vil være på kontoen din innen 3–5 virkedager.",
            "Kan du sende oss en kopi av kvitteringen fra nettbanken? Da får vi sporet innbetalingen.",
        ),
        replies_en=(
            "Thank you for getting in touch. The amount on invoice {invoice} was wrong, and we have issued a credit note for NOK {amount}.",
            "The duplicate payment has been refunded and should reach your account within 3–5 working days.",
        ),
        notes=(
            "Sjekket i økonomisystemet: innbetalingen ligger på feil KID.",
            "Kreditnota laget, venter på godkjenning fra økonomi.",
            "Kunden har hatt tre purringer i år — vurder å tilby avtalegiro.",
        ),
    ),
    Topic(
        name="Levering",
        team="Kundeservice",
        types={"question": 60, "incident": 25, "complaint": 15},
        tags=("pakke-borte", "forsinket", "hentested", "posten", "hjemlevering"),
        weight=18,
        subjects_nb=(
            "Hvor er pakken min?",
            "Ordre {order} har ikke kommet",
            "Feil hentested",
            "Pakken er levert, men jeg har ikke fått den",
            "Når kommer bestillingen?",
            "Sporingsnummer {tracking} virker ikke",
            "Endre leveringsadresse",
            "Forsinket levering",
        ),
        subjects_en=(
            "Where is my parcel?",
            "Order {order} has not arrived",
            "Change delivery address",
        ),
        openings_nb=(
            "Jeg bestilte for over en uke siden (ordre {order}), men har fortsatt ikke fått noe. Sporingen har stått stille siden {date}.",
            "Sporingen sier at pakken er levert, men den er ikke i postkassen og ikke hos naboene.",
            "Pakken ble sendt til feil hentested. Kan den flyttes til butikken nærmere meg?",
            "Kan jeg endre leveringsadressen på ordre {order}? Jeg har flyttet.",
            "Sporingsnummeret {tracking} gir ingen treff hos Posten.",
        ),
        openings_en=(
            "I ordered more than a week ago (order {order}) and nothing has arrived. Tracking has not moved since {date}.",
            "Tracking says my parcel was delivered, but it is not in my mailbox.",
        ),
        replies_nb=(
            "Beklager at pakken er forsinket. Jeg har sjekket med fraktselskapet, og den er på vei til hentestedet ditt. Du får SMS når den kan hentes.",
            "Jeg har meldt pakken savnet hos Posten. Blir den ikke funnet innen fem virkedager, sender vi en ny til deg uten kostnad.",
            "Leveringsadressen er endret. Ny forventet levering er {date}.",
            "Pakken ligger klar på hentestedet. Sporingsnummeret er {tracking}.",
        ),
        replies_en=(
            "Sorry your parcel is late. I have checked with the carrier and it is on its way to your pick-up point; you will get a text when it is ready.",
            "I have reported the parcel missing. If it is not found within five working days we will send a new one free of charge.",
        ),
        notes=(
            "Ringte Posten bedriftsservice: pakken står på terminalen på Alnabru.",
            "Sendt erstatningspakke, ny ordre opprettet.",
        ),
    ),
    Topic(
        name="Retur",
        team="Retur og reklamasjon",
        types={"return": 85, "question": 15},
        tags=("angrerett", "returlapp", "refusjon", "bytte"),
        weight=12,
        subjects_nb=(
            "Retur av ordre {order}",
            "Angrerett",
            "Returlapp",
            "Bytte til annen størrelse",
            "Når får jeg pengene tilbake?",
            "Vil returnere {product}",
        ),
        subjects_en=("Return of order {order}", "How do I return an item?", "Refund status"),
        openings_nb=(
            "Jeg vil bruke angreretten på ordre {order}. Hvordan returnerer jeg varen?",
            "Jeg sendte {product} i retur {date}, men har ikke fått pengene tilbake ennå.",
            "Kan jeg bytte til en annen størrelse i stedet for å returnere?",
            "Returlappen som fulgte med pakken mangler. Kan dere sende en ny?",
        ),
        openings_en=(
            "I would like to return order {order}. How do I do that?",
            "I returned the item on {date} but have not received my refund yet.",
        ),
        replies_nb=(
            "Du har 14 dagers angrerett fra du mottok varen. Jeg har sendt deg en returlapp på e-post — skriv den ut og lever pakken på nærmeste hentested.",
            "Returen din er mottatt, og {amount} kr er tilbakebetalt. Det kan ta 3–5 virkedager før beløpet er på kontoen.",
            "Byttet er registrert. Ny størrelse sendes så snart vi har mottatt returen.",
        ),
        replies_en=(
            "You have 14 days' right of withdrawal from delivery. I have emailed you a return label; drop the parcel at any pick-up point.",
            "Your return has been received and NOK {amount} refunded. It may take 3–5 working days to show in your account.",
        ),
        notes=("Retur mottatt på lageret, varen er ubrukt.", "Refusjon godkjent."),
    ),
    Topic(
        name="Reklamasjon",
        team="Retur og reklamasjon",
        types={"complaint": 90, "return": 10},
        tags=("garanti", "skadet-vare", "feil-vare", "reklamasjonsfrist", "sint-kunde"),
        weight=9,
        subjects_nb=(
            "Reklamasjon på {product}",
            "{product} er ødelagt",
            "Fikk skadet vare",
            "Feil vare levert",
            "Reklamasjon – ordre {order}",
            "Produktet sluttet å virke",
        ),
        subjects_en=("Warranty claim: {product}", "Item arrived damaged", "Wrong item delivered"),
        openings_nb=(
            "{product} jeg kjøpte for et år siden har sluttet å virke. Jeg ønsker å reklamere.",
            "Varen var knust da jeg åpnet pakken. Jeg har tatt bilder.",
            "Jeg har fått feil vare. Jeg bestilte noe helt annet enn det som kom (ordre {order}).",
            "Dette er tredje gang jeg må klage på samme produkt. Jeg er ærlig talt lei.",
        ),
        openings_en=(
            "The {product} I bought last year has stopped working. I would like to make a warranty claim.",
            "The item was broken when I opened the parcel. I have photos.",
        ),
        replies_nb=(
            "Så leit å høre! Du har reklamasjonsrett i fem år på varer som er ment å vare lenge. Send oss gjerne bilder og kvittering, så ordner vi reparasjon eller ny vare.",
            "Reklamasjonen er godkjent. Vi sender en ny vare, og du får en returlapp for den defekte.",
            "Beklager feilen! Riktig vare er sendt i dag, og du kan beholde den du fikk.",
        ),
        replies_en=(
            "Sorry to hear that. Under Norwegian consumer law you can claim for up to five years on goods meant to last. Please send photos and the receipt and we will repair or replace it.",
            "Your claim is approved. We are sending a replacement and a return label for the faulty item.",
        ),
        notes=(
            "Innenfor 2-årsfristen, godkjenner uten vurdering fra verksted.",
            "Sendt til verkstedvurdering hos leverandøren.",
            "Kunden er tydelig frustrert — prioriter og ring tilbake.",
        ),
    ),
    Topic(
        name="Teknisk feil",
        team="Teknisk støtte",
        types={"incident": 85, "question": 15},
        tags=("app", "nettbutikk", "betaling", "feilmelding", "ios", "android"),
        weight=13,
        subjects_nb=(
            "Appen krasjer",
            "Får feilmelding ved betaling",
            "Nettbutikken laster ikke",
            "Vipps-betaling feiler",
            "Kan ikke legge varer i handlekurven",
            "Feil i appen etter oppdatering",
            "{product} kobler seg ikke til wifi",
        ),
        subjects_en=(
            "App crashes on start",
            "Payment error at checkout",
            "Cannot add items to basket",
        ),
        openings_nb=(
            "Appen krasjer hver gang jeg åpner den etter siste oppdatering. Jeg bruker iPhone.",
            "Jeg får feilmeldingen «Noe gikk galt» når jeg skal betale med Vipps.",
            "{product} vil ikke koble seg til wifi lenger. Jeg har prøvd å starte den på nytt.",
            "Nettsiden henger når jeg går til kassen. Har prøvd både Chrome og Safari.",
        ),
        openings_en=(
            "The app crashes every time I open it after the last update.",
            "I get an error message when I try to pay at checkout.",
        ),
        replies_nb=(
            "Takk for beskjed! Feilen er kjent og rettet i versjon 4.2 av appen, som kom i dag. Oppdater appen, så skal det virke igjen.",
            "Prøv å tømme hurtigbufferen i nettleseren og logge inn på nytt. Virker det fortsatt ikke, send oss gjerne et skjermbilde av feilmeldingen.",
            "Jeg har sendt en ny oppsettsveiledning på e-post. Hold inne tilbakestillingsknappen i ti sekunder før du kobler til på nytt.",
        ),
        replies_en=(
            "Thanks for letting us know. The bug is fixed in version 4.2 of the app, released today. Please update and it should work again.",
            "Please clear your browser cache and log in again. If it still fails, send us a screenshot of the error.",
        ),
        notes=(
            "Reprodusert i testmiljøet. Meldt til utviklerne.",
            "Samme feil som sakene fra i går — betalingsleverandøren har driftsforstyrrelser.",
            "Ba kunden om loggfil fra appen.",
        ),
    ),
    Topic(
        name="Konto og innlogging",
        team="Teknisk støtte",
        types={"question": 60, "incident": 40},
        tags=("passord", "bankid", "2fa", "sperret-konto", "personvern"),
        weight=9,
        subjects_nb=(
            "Får ikke logget inn",
            "Glemt passord",
            "Kontoen er sperret",
            "Endre e-postadresse",
            "Slette kontoen min",
            "Innlogging med BankID virker ikke",
            "Får ikke SMS-kode",
        ),
        subjects_en=("Cannot log in", "Forgot my password", "Please delete my account"),
        openings_nb=(
            "Jeg får ikke logget inn på Min side. Har prøvd å tilbakestille passordet, men får ingen e-post.",
            "Kontoen min er sperret etter for mange forsøk. Kan dere åpne den?",
            "Jeg vil at dere sletter kontoen min og alle opplysninger dere har om meg.",
            "Jeg får ikke SMS-koden når jeg skal logge inn. Nummeret mitt er det samme som før.",
        ),
        openings_en=(
            "I cannot log in to my account and the password reset email never arrives.",
            "Please delete my account and all personal data you hold about me.",
        ),
        replies_nb=(
            "Kontoen din er åpnet igjen. Du kan nå logge inn og velge et nytt passord.",
            "E-posten for tilbakestilling havnet trolig i søppelpost. Jeg har sendt en ny lenke som gjelder i 24 timer.",
            "Vi har slettet kontoen din. Opplysninger vi må ta vare på etter bokføringsloven, slettes når fristen går ut.",
        ),
        replies_en=(
            "Your account is unlocked. You can now log in and choose a new password.",
            "We have deleted your account. Records we must keep under the Bookkeeping Act will be erased when the retention period ends.",
        ),
        notes=(
            "Bekreftet identitet med BankID før opplåsing.",
            "Innsynsbegjæring — frist 30 dager.",
        ),
    ),
    Topic(
        name="Produktinformasjon",
        team="Kundeservice",
        types={"question": 95, "feedback": 5},
        tags=("lagerstatus", "størrelse", "kompatibilitet", "b2b"),
        weight=11,
        subjects_nb=(
            "Spørsmål om {product}",
            "Har dere denne på lager?",
            "Passer denne til min modell?",
            "Når kommer varen inn igjen?",
            "Storkundeavtale for bedrifter?",
            "Garanti på {product}",
        ),
        subjects_en=("Question about the {product}", "Is this in stock?", "Business discount?"),
        openings_nb=(
            "Hei! Har dere {product} på lager i butikken i Bergen, eller må den bestilles?",
            "Passer laderen dere selger til den eldre modellen?",
            "Vi er et firma som vil kjøpe inn 20 stykker. Har dere bedriftsavtaler?",
            "Hvor lang garanti er det på {product}?",
        ),
        openings_en=(
            "Do you have the {product} in stock, or does it need to be ordered?",
            "We are a company looking to buy 20 units. Do you offer business pricing?",
        ),
        replies_nb=(
            "Den er dessverre utsolgt nå, men vi venter nye varer {date}. Du kan legge inn varsling på produktsiden.",
            "Ja, den passer til alle modeller fra 2019 og senere.",
            "Så hyggelig! Jeg har sendt henvendelsen videre til bedriftssalg, som tar kontakt i løpet av dagen.",
            "Det er to års garanti, og i tillegg fem års reklamasjonsrett etter forbrukerkjøpsloven.",
        ),
        replies_en=(
            "It is sold out at the moment, but we expect new stock on {date}.",
            "Yes, it fits all models from 2019 onwards.",
        ),
    ),
    Topic(
        name="Tilbakemelding",
        team="Kundeservice",
        types={"feedback": 80, "complaint": 20},
        tags=("ros", "forslag", "kundeopplevelse", "sint-kunde"),
        weight=6,
        subjects_nb=(
            "Ros til kundeservice",
            "Forslag til nettbutikken",
            "Dårlig opplevelse i butikken",
            "Tilbakemelding på appen",
            "Takk for god hjelp!",
        ),
        subjects_en=("Great service", "Suggestion for the website", "Disappointing experience"),
        openings_nb=(
            "Ville bare si takk for god hjelp forrige uke. {agent} var veldig hyggelig!",
            "Det hadde vært fint om man kunne filtrere på størrelse i nettbutikken.",
            "Jeg ventet i 40 minutter i telefonkø i går. Det er ikke greit.",
            "Den nye appen er mye bedre enn den gamle, men jeg savner ordrehistorikken.",
        ),
        openings_en=(
            "Just wanted to say thank you for the great help last week.",
            "It would be nice to be able to filter by size on the website.",
        ),
        replies_nb=(
            "Tusen takk for hyggelig tilbakemelding! Vi sender den videre til teamet.",
            "Takk for forslaget — det er sendt videre til de som utvikler nettbutikken.",
            "Beklager den lange ventetiden. Vi har hatt mye pågang, og setter inn flere folk på ettermiddagene fremover.",
        ),
        replies_en=(
            "Thank you so much for the kind words! We have passed them on to the team.",
            "Thanks for the suggestion; it has been passed on to the web team.",
        ),
    ),
    Topic(
        name="Bestilling",
        team="Kundeservice",
        types={"question": 70, "task": 30},
        tags=("endre-ordre", "kansellering", "gavekort", "rabattkode"),
        weight=6,
        subjects_nb=(
            "Endre bestilling {order}",
            "Kansellere ordre",
            "Rabattkoden virker ikke",
            "Gavekort",
            "Mangler ordrebekreftelse",
        ),
        subjects_en=("Cancel my order", "Discount code not working"),
        openings_nb=(
            "Jeg bestilte feil farge. Kan jeg endre ordre {order} før den sendes?",
            "Jeg ønsker å kansellere ordre {order}.",
            "Rabattkoden fra nyhetsbrevet blir ikke godtatt i kassen.",
            "Jeg har ikke fått ordrebekreftelse, men pengene er trukket.",
        ),
        openings_en=(
            "Please cancel order {order}.",
            "The discount code from your newsletter is not accepted.",
        ),
        replies_nb=(
            "Ordren er endret, og du får ny ordrebekreftelse på e-post.",
            "Ordren er kansellert, og {amount} kr refunderes innen 3–5 virkedager.",
            "Rabattkoden gjaldt dessverre bare til {date}, men jeg har lagt inn 10 % rabatt på ordren din likevel.",
        ),
        replies_en=(
            "Your order is cancelled and NOK {amount} will be refunded within 3–5 working days.",
            "The code expired on {date}, but I have applied a 10% discount to your order anyway.",
        ),
    ),
)

TOPICS_BY_NAME = {topic.name: topic for topic in TOPICS}

# Follow-ups from the customer, and the closing words of a conversation.
CUSTOMER_FOLLOW_UPS_NB = (
    "Takk for svar. Jeg har gjort som du sa, men det virker fortsatt ikke.",
    "Hei igjen. Har det skjedd noe i saken? Jeg har ikke hørt noe på en stund.",
    "Her er kvitteringen og bildene dere ba om.",
    "Det stemmer ikke helt — ordrenummeret er {order}.",
    "Når kan jeg forvente å høre fra dere?",
    "Ok, men hva skjer hvis det ikke er kommet innen fredag?",
)
CUSTOMER_FOLLOW_UPS_EN = (
    "Thanks. I tried that, but it still does not work.",
    "Hi again, any news on this? I have not heard back.",
    "Attached are the receipt and the photos you asked for.",
    "When can I expect to hear from you?",
)
CUSTOMER_THANKS_NB = (
    "Tusen takk, da er alt i orden!",
    "Flott, takk for hjelpen.",
    "Supert, det fungerer nå.",
)
CUSTOMER_THANKS_EN = ("Thank you, that solved it!", "Great, thanks for your help.")

FOLLOW_UP_REPLIES_NB = (
    "Takk for at du sendte dette. Jeg har sjekket saken på nytt og ordnet det nå.",
    "Beklager at det har tatt tid. Saken er nå løst, og du skal ha fått en bekreftelse på e-post.",
    "Jeg har fulgt opp med leverandøren og kommer tilbake til deg så snart jeg har svar.",
)
FOLLOW_UP_REPLIES_EN = (
    "Thanks for sending this. I have looked at it again and sorted it out.",
    "Sorry for the wait. This is now resolved and you should have a confirmation by email.",
)

GENERIC_NOTES = (
    "Sjekket kundehistorikken — ingen tidligere saker om dette.",
    "Spurte {agent} om råd, hun kjenner denne leverandøren.",
    "Kunden har ringt inn om det samme også.",
    "Venter på svar fra lageret.",
)
PHONE_NOTES_NB = (
    "Kunden ringte: «{opening}»",
    "Telefon fra {name}: «{opening}» Lovet å komme tilbake på e-post.",
)
WALK_IN_NOTES_NB = ("{name} var innom butikken: «{opening}»",)
NO_ANSWER_NOTE = "Ikke hørt fra kunden etter oppfølging — løser saken."
HAND_OVER_NOTE = "Sender videre til {team}, dette må de se på."
ON_HOLD_NOTE = "Venter på svar fra leverandøren, setter saken på vent."

GREETING_NB = "Hei,\n\n"
GREETING_NAMED_NB = "Hei {first},\n\n"
GREETING_EN = "Hello,\n\n"
GREETING_NAMED_EN = "Hi {first},\n\n"
SIGN_OFF_CUSTOMER_NB = ("\n\nMvh\n{name}", "\n\nHilsen {first}", "\n\nVennlig hilsen\n{name}")
SIGN_OFF_CUSTOMER_EN = ("\n\nBest regards,\n{name}", "\n\nThanks,\n{first}")
SIGN_OFF_AGENT_NB = "\n\nVennlig hilsen\n{agent}\n{team}"
SIGN_OFF_AGENT_EN = "\n\nKind regards,\n{agent}\n{team}"
