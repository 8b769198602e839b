"""Fidelity: what the author wrote against what the card shows, so no text vanishes without a diagnostic.

Two stages, each a module: `parsed` compares the lines of a note file with the blocks Markdown made of them
(lines no block holds, note headings swallowed by an unclosed fence or an HTML block, nesting past the
parser's limit); `rendered` compares a note's source with its rendered fields (deletions that do not reach
the visible text, fronts and backs that show nothing, characters Anki cannot store). `visible` is what both
mean by the text a learner sees.
"""
