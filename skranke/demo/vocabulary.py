"""Names, places and companies the demo desk is populated with.

Common Norwegian first names and surnames (SSB's most frequent), real postal codes with their
post towns, and invented company names. Email domains are under the reserved ``.example``
top-level domain (RFC 2606) so a demo desk that sends mail can never reach a real person.
"""

from __future__ import annotations

FIRST_NAMES = (
    "Anne", "Inger", "Kari", "Marit", "Ingrid", "Liv", "Eva", "Berit", "Astrid", "Bjørg",
    "Hilde", "Anna", "Solveig", "Marianne", "Randi", "Ida", "Nina", "Maria", "Elisabeth",
    "Kristin", "Bente", "Heidi", "Silje", "Hanne", "Gro", "Tone", "Camilla", "Ingeborg",
    "Nora", "Emma", "Sara", "Thea", "Ingvild", "Julie", "Maja", "Sofie", "Tuva", "Linnea",
    "Vilde", "Hedda", "Synnøve", "Åse", "Turid", "Ragnhild", "Sigrid", "Mette", "Guro",
    "Jan", "Per", "Bjørn", "Ole", "Lars", "Kjell", "Knut", "Arne", "Svein", "Thomas",
    "Hans", "Geir", "Tor", "Morten", "Terje", "Odd", "Erik", "Martin", "Andreas", "John",
    "Anders", "Rune", "Trond", "Tore", "Jon", "Espen", "Øyvind", "Håkon", "Magnus", "Jonas",
    "Emil", "Henrik", "Sindre", "Even", "Sander", "Aksel", "Filip", "Kristian", "Eirik",
    "Stian", "Vegard", "Halvard", "Sigurd", "Torbjørn", "Leif", "Øystein", "Mats", "Tobias",
    "Ahmed", "Mohammad", "Ali", "Fatima", "Aisha", "Piotr", "Anna Maria", "Tomasz", "Agnieszka",
)

SURNAMES = (
    "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen",
    "Jensen", "Karlsen", "Johnsen", "Pettersen", "Eriksen", "Berg", "Haugen", "Hagen",
    "Johannessen", "Andreassen", "Jacobsen", "Dahl", "Jørgensen", "Henriksen", "Lund",
    "Halvorsen", "Sørensen", "Jakobsen", "Moen", "Gundersen", "Iversen", "Strand", "Solberg",
    "Svendsen", "Eide", "Knutsen", "Martinsen", "Paulsen", "Bakken", "Kristoffersen",
    "Mathisen", "Lie", "Amundsen", "Nguyen", "Rasmussen", "Ali", "Lunde", "Solheim", "Berge",
    "Moe", "Nygård", "Bakke", "Kristensen", "Fredriksen", "Holm", "Lien", "Hauge",
    "Christensen", "Andresen", "Nielsen", "Knudsen", "Evensen", "Sæther", "Aas", "Myhre",
    "Hanssen", "Ahmed", "Haugland", "Thomassen", "Sivertsen", "Simonsen", "Danielsen",
    "Berntsen", "Sandvik", "Rønning", "Arnesen", "Antonsen", "Næss", "Vik", "Haug",
    "Ellingsen", "Thorsen", "Edvardsen", "Birkeland", "Isaksen", "Gulbrandsen", "Ruud",
    "Aasen", "Strøm", "Myklebust", "Tangen", "Ødegård", "Eliassen", "Helland", "Bøe",
    "Jenssen", "Aune", "Mikkelsen", "Tveit", "Brekke", "Abrahamsen", "Madsen", "Kowalski",
)

# English-preferring customers: expats, visitors and companies working in English.
ENGLISH_FIRST_NAMES = (
    "James", "Emily", "Oliver", "Sophie", "Daniel", "Charlotte", "Michael", "Hannah",
    "David", "Laura", "Lukas", "Julia", "Marco", "Elena", "Pierre", "Claire", "Sean", "Aoife",
)
ENGLISH_SURNAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Thomas", "Roberts", "Walker",
    "Müller", "Schmidt", "Rossi", "Dubois", "Murphy", "O'Brien", "García", "Novak", "Clarke",
)

STREETS = (
    "Storgata", "Kirkegata", "Kongens gate", "Dronningens gate", "Parkveien", "Skolegata",
    "Bjørkeveien", "Granveien", "Furuveien", "Fjordveien", "Solbakken", "Sjøgata",
    "Strandveien", "Nedre gate", "Øvre Slottsgate", "Markveien", "Thereses gate",
    "Bogstadveien", "Trondheimsveien", "Grønland", "Kalfarveien", "Nygårdsgaten",
    "Olav Tryggvasons gate", "Munkegata", "Løkkeveien", "Haugesundsgata", "Lysverket",
    "Elvegata", "Bryggen", "Torggata", "Hovedgata", "Industriveien", "Lindeveien",
    "Eikeveien", "Heggveien", "Rognveien", "Kløvervegen", "Fjellvegen", "Bakkevegen",
    "Sandvikveien", "Åsveien", "Tunveien", "Stasjonsveien", "Jernbanegata", "Prestegata",
)

# (postal code, post town) — real pairs from Posten's register.
POSTAL_PLACES = (
    ("0150", "Oslo"), ("0182", "Oslo"), ("0257", "Oslo"), ("0350", "Oslo"), ("0458", "Oslo"),
    ("0553", "Oslo"), ("0661", "Oslo"), ("0771", "Oslo"), ("0870", "Oslo"), ("0986", "Oslo"),
    ("1337", "Sandvika"), ("1366", "Lysaker"), ("1406", "Ski"), ("1530", "Moss"),
    ("1606", "Fredrikstad"), ("1706", "Sarpsborg"), ("2000", "Lillestrøm"), ("2317", "Hamar"),
    ("2609", "Lillehammer"), ("2815", "Gjøvik"), ("3015", "Drammen"), ("3117", "Tønsberg"),
    ("3211", "Sandefjord"), ("3257", "Larvik"), ("3616", "Kongsberg"), ("3724", "Skien"),
    ("3915", "Porsgrunn"), ("4006", "Stavanger"), ("4021", "Stavanger"), ("4306", "Sandnes"),
    ("4514", "Mandal"), ("4610", "Kristiansand"), ("4836", "Arendal"), ("4876", "Grimstad"),
    ("5003", "Bergen"), ("5015", "Bergen"), ("5055", "Bergen"), ("5141", "Fyllingsdalen"),
    ("5221", "Nesttun"), ("5411", "Stord"), ("5501", "Haugesund"), ("5525", "Haugesund"),
    ("6002", "Ålesund"), ("6413", "Molde"), ("6509", "Kristiansund"), ("6800", "Førde"),
    ("7010", "Trondheim"), ("7030", "Trondheim"), ("7089", "Heimdal"), ("7600", "Levanger"),
    ("7713", "Steinkjer"), ("8006", "Bodø"), ("8514", "Narvik"), ("8622", "Mo i Rana"),
    ("9008", "Tromsø"), ("9019", "Tromsø"), ("9405", "Harstad"), ("9510", "Alta"),
    ("9600", "Hammerfest"), ("9900", "Kirkenes"),
)

# Private customers' mail providers; all under .example (see the module docstring).
PRIVATE_EMAIL_DOMAINS = (
    "epost.example", "nettpost.example", "online.example", "post.example", "hjemme.example",
    "mail.example",
)

COMPANY_STEMS = (
    "Fjord", "Nordlys", "Vestland", "Bergvik", "Solstrand", "Havblikk", "Fjellstue",
    "Kystlinje", "Elvebredd", "Skogly", "Granli", "Lyngstad", "Brattås", "Sjøhagen",
    "Vidde", "Fossum", "Tinde", "Bølgen", "Midnattsol", "Polar", "Trollheim", "Lofoten",
    "Rondane", "Jotun", "Dovre", "Hardanger", "Sogn", "Nidaros", "Bjørgvin", "Tønsberg",
    "Varden", "Nordkapp", "Mjøsa", "Glomma", "Lågen", "Hallingdal", "Telemark", "Agder",
)
COMPANY_TRADES = (
    "Bygg", "Elektro", "Regnskap", "Rør", "Transport", "Eiendom", "Data", "Consult",
    "Handel", "Maskin", "Tannlegesenter", "Barnehage", "Bakeri", "Hotell", "Kafé",
    "Advokatfirma", "Frisør", "Legesenter", "Marine", "Energi", "Media", "Entreprenør",
    "Sport", "Interiør", "Auto", "Fisk", "Catering", "Reklame", "IT", "Logistikk",
)
COMPANY_FORMS = ("AS", "AS", "AS", "AS", "ASA", "SA", "ANS", "DA")
