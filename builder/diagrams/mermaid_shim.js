// Faster versions of the selector and stylesheet lookups of mermaidx's DOM shim (assets/dom_shim.js), appended
// to that script so that these declarations replace its own ones of the same name. Only ever used with the one
// dom_shim.js they were written against (builder/diagrams/mermaid_zygote.py checks its SHA-256).
//
// Why: the shim resolves every font, text-anchor and baseline by walking up the element's ancestors and, on
// each, testing every rule of mermaid's stylesheet. Each test re-parsed the selector text from scratch, and
// each stylesheet lookup first searched the whole document for its <style> element with the general selector
// matcher. That was 60-85% of a render (a class diagram: 2.9 s of 3.2 s). The answers are unchanged: the same
// selectors match the same elements, tested in the same order; what is parsed once is kept, keyed on its text,
// and a search stops at its first match (document order, as before). A render runs in a process of its own,
// forked from a context that has rendered nothing, so nothing kept here outlives one diagram.

// A selector list -> the complex selectors of it, parsed (the shim's __splitTopLevel / __parseComplex).
const __deckforgeSelectorLists = new Map();
function __deckforgeSelectorList(sel) {
  let chains = __deckforgeSelectorLists.get(sel);
  if (chains === undefined) {
    chains = [];
    for (const [part] of __splitTopLevel(sel.trim(), (c) => c === ",")) chains.push(__parseComplex(part.trim()));
    __deckforgeSelectorLists.set(sel, chains);
  }
  return chains;
}

function __matches(el, sel) {
  for (const chain of __deckforgeSelectorList(sel)) {
    if (chain.length > 0 && __matchesChain(el, chain, chain.length - 1)) return true;
  }
  return false;
}

// A compound selector -> its :not() clauses and its simple selectors, tokenised as the shim's
// __matchesCompound does: [0, id] | [1, class] | [2, pseudo-class] | [3, attribute match] | [4, tag].
const __deckforgeCompounds = new Map();
function __deckforgeCompound(part) {
  let parsed = __deckforgeCompounds.get(part);
  if (parsed === undefined) {
    const notRe = /:not\(([^()]*)\)/g;
    const nots = [];
    let notMatch;
    while ((notMatch = notRe.exec(part))) nots.push(notMatch[1]);
    const re = /(#[\w-]+|\.[\w-]+|\[[^\]]+\]|:[\w-]+|[\w-]+|\*)/g;
    const rest = part.replace(notRe, "");
    const tokens = [];
    let m;
    while ((m = re.exec(rest))) {
      const t = m[0];
      if (t === "*") continue;
      if (t[0] === "#") tokens.push([0, t.slice(1)]);
      else if (t[0] === ".") tokens.push([1, t.slice(1)]);
      else if (t[0] === ":") tokens.push([2, t]);
      else if (t[0] === "[") tokens.push([3, /\[([\w-]+)(?:([~^$*|]?=)"?([^"\]]*)"?)?\]/.exec(t)]);
      else tokens.push([4, t.toLowerCase()]);
    }
    parsed = { nots, tokens };
    __deckforgeCompounds.set(part, parsed);
  }
  return parsed;
}

// el.classList.contains(name) without building a ClassList and a Set per test: one Set per class attribute value.
const __deckforgeClassSets = new Map();
function __deckforgeHasClass(el, name) {
  const cls = el.getAttribute("class") || "";
  let set = __deckforgeClassSets.get(cls);
  if (set === undefined) {
    set = new Set(cls.split(/\s+/).filter(Boolean));
    __deckforgeClassSets.set(cls, set);
  }
  return set.has(name);
}

function __matchesCompound(el, part) {
  const { nots, tokens } = __deckforgeCompound(part);
  for (const inner of nots) {
    if (__matchesCompound(el, inner)) return false;
  }
  for (const [kind, v] of tokens) {
    if (kind === 0) {
      if (el.getAttribute("id") !== v) return false;
    } else if (kind === 1) {
      if (!__deckforgeHasClass(el, v)) return false;
    } else if (kind === 2) {
      const siblings = el.parentNode ? el.parentNode.childNodes.filter((c) => c.nodeType === 1) : [];
      if (v === ":first-child") {
        if (siblings[0] !== el) return false;
      } else if (v === ":last-child") {
        if (siblings[siblings.length - 1] !== el) return false;
      } else return false;
    } else if (kind === 3) {
      if (v) {
        const val = el.getAttribute(v[1]);
        if (v[2] === undefined) {
          if (val === null) return false;
        } else if (val !== v[3]) return false;
      }
    } else if ((el.tagName || "").toLowerCase() !== v) return false;
  }
  return true;
}

// The first element under `n` (document order) that `test` accepts, else null.
function __deckforgeFirst(n, test) {
  for (const c of n.childNodes) {
    if (c.nodeType === 1) {
      if (test(c)) return c;
      const found = __deckforgeFirst(c, test);
      if (found) return found;
    }
  }
  return null;
}

// A lone tag name or #id (what getElementById and the stylesheet lookup ask for) is tested directly: it is
// one token to __matchesCompound, so it matches exactly the elements such a direct test accepts.
const __deckforgeTagOnly = /^[\w-]+$/;
const __deckforgeIdOnly = /^#[\w-]+$/;
function __querySelector(root, sel) {
  if (typeof sel === "string" && __deckforgeTagOnly.test(sel)) {
    const tag = sel.toLowerCase();
    return __deckforgeFirst(root, (el) => (el.tagName || "").toLowerCase() === tag);
  }
  if (typeof sel === "string" && __deckforgeIdOnly.test(sel)) {
    const id = sel.slice(1);
    return __deckforgeFirst(root, (el) => el.getAttribute("id") === id);
  }
  return __deckforgeFirst(root, (el) => __matches(el, sel));
}

// Per stylesheet (the shim re-parses it only when its text changes) and property: the rules that declare it.
let __deckforgeRulesSeen = null;
let __deckforgeRulesByProp = null;
function __resolveCssProp(el, prop) {
  const rules = __getCssRules();
  if (__deckforgeRulesSeen !== rules) {
    __deckforgeRulesSeen = rules;
    __deckforgeRulesByProp = new Map();
  }
  let declaring = __deckforgeRulesByProp.get(prop);
  if (declaring === undefined) {
    declaring = rules.filter((rule) => prop in rule.decls);
    __deckforgeRulesByProp.set(prop, declaring);
  }
  let value = null;
  for (const rule of declaring) {
    if (__matches(el, rule.selectors)) value = rule.decls[prop];
  }
  return value;
}
