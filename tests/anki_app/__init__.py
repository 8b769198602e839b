"""Real-client screenshot harness: the Anki desktop app (aqt) under Xvfb, driven by an add-on.

runner.py   host side: throwaway base folder, Xvfb, start Anki, turn raw measurements into facts.json
profile.py  the base folder: preferences that skip first-run dialogs, software GL, the add-on shim
driver.py   inside Anki: import, show each card in the reviewer, grab, measure, log the console
plan.py     which cards to shoot: the first note of each kind (a table), every notetype, extra note ids
svgfacts.py smallest label size of an SVG diagram, and which engine drew it
pixels.py   brightness of a screenshot (a white box on a night card)
facts.py    facts.json: per shot sizes, scales, label px, fold, brightness, console; the deck tree
"""
