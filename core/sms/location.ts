import type { ParsedLocation } from '../../contract';

/** The station fields the parser needs (core/geo's Station satisfies it). */
export interface StationRef {
  id: string;
  name: string;
  lines: string[];
}

/**
 * Optimal-string-alignment edit distance (Levenshtein plus adjacent transpositions, the
 * commonest typing slip: "Belmnot"). Kept here rather than taken from a package: no direct
 * dependency offers it, and it is twenty lines with a cut-off that keeps matching cheap.
 */
export function editDistance(a: string, b: string, max = 3): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    let rowMin = Infinity;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin > max) return max + 1;
  }
  return d[a.length]![b.length]!;
}

/** Lower case, no accents, CJK split from Latin, punctuation to spaces (keeping # for "#9"). */
export function normalize(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ł/g, 'l')
    .replace(/Ł/g, 'L')
    .toLowerCase()
    .replace(/([\u3400-\u9fff]+)/g, ' $1 ')
    .replace(/[^a-z0-9#\u3400-\u9fff]+/g, ' ')
    .replace(/#\s+/g, '#')
    .trim();
}

/** Line colour words in English, Spanish, Polish and Chinese -> contract RAIL_LINES code. */
const LINE_WORDS: Record<string, string> = {
  red: 'Red',
  roja: 'Red',
  rojo: 'Red',
  czerwona: 'Red',
  czerwonej: 'Red',
  红: 'Red',
  blue: 'Blue',
  azul: 'Blue',
  niebieska: 'Blue',
  niebieskiej: 'Blue',
  蓝: 'Blue',
  brown: 'Brn',
  cafe: 'Brn',
  marron: 'Brn',
  brazowa: 'Brn',
  brazowej: 'Brn',
  棕: 'Brn',
  green: 'G',
  verde: 'G',
  zielona: 'G',
  zielonej: 'G',
  绿: 'G',
  orange: 'Org',
  naranja: 'Org',
  pomaranczowa: 'Org',
  pomaranczowej: 'Org',
  橙: 'Org',
  purple: 'P',
  morada: 'P',
  purpura: 'P',
  fioletowa: 'P',
  fioletowej: 'P',
  紫: 'P',
  pink: 'Pink',
  rosa: 'Pink',
  rozowa: 'Pink',
  rozowej: 'Pink',
  粉: 'Pink',
  yellow: 'Y',
  amarilla: 'Y',
  zolta: 'Y',
  zoltej: 'Y',
  黄: 'Y',
};
const LINE_CONTEXT = /^(line|linea|linia|linii|train|tren|pociag|el|l|线)$/;

const DIRECTIONS: Array<[RegExp, ParsedLocation['direction']]> = [
  [/\b(north ?bound|nb|going north|heading north|hacia el norte|al norte|na polnoc|w strone polnocy)\b|北行|往北|向北/, 'northbound'],
  [/\b(south ?bound|sb|going south|heading south|hacia el sur|al sur|na poludnie)\b|南行|往南|向南/, 'southbound'],
  [/\b(east ?bound|eb|going east|heading east|hacia el este|al este|na wschod)\b|东行|往东|向东/, 'eastbound'],
  [/\b(west ?bound|wb|going west|heading west|hacia el oeste|al oeste|na zachod)\b|西行|往西|向西/, 'westbound'],
];

const BUS = '(?:bus|buss|bs|autobus|camion|omnibus|公交车|公交|巴士|公车)';
const CAR = '(?:car|railcar|rail car|train car|vagon|wagon|wagonie|wagonu|carro|车厢|车)';

/** Words that look like station names but rarely mean one in a rider's text. */
const NOT_A_STATION = new Set(['main', 'central', 'lake', 'grand', 'the', 'on', 'at', 'in']);

interface Candidate {
  station: StationRef;
  score: number;
  start: number;
  end: number;
}

/** Spellings a rider uses for a station, besides its name: parts of "A/B" and "A-B" names, well-known short names. */
function aliasesOf(s: StationRef): string[] {
  const n = normalize(s.name);
  const out = new Set([n]);
  for (const part of s.name.split(/[/-]/)) {
    const p = normalize(part);
    if (p.length >= 4 && !/^\d/.test(p)) out.add(p);
  }
  if (n === 'o hare') out.add('ohare');
  if (n.startsWith('harold washington library')) out.add('library');
  if (n === 'clark lake') out.add('clark and lake');
  return [...out];
}

/** Allowed slips for a spelling of this length: none for short names (too many false friends). */
function tolerance(len: number): number {
  return len <= 4 ? 0 : len <= 7 ? 1 : 2;
}

export interface StationIndex {
  entries: Array<{ alias: string; words: number; station: StationRef }>;
}

export function indexStations(stations: readonly StationRef[]): StationIndex {
  const entries: StationIndex['entries'] = [];
  for (const s of stations) for (const alias of aliasesOf(s)) entries.push({ alias, words: alias.split(' ').length, station: s });
  return { entries };
}

/**
 * What a rider's text says about where they are: an 'L' station (fuzzy: misspellings and
 * run-together words are allowed), a line colour and direction, a bus route and bus number,
 * a railcar number. Anything not said is null; the caller decides what is enough to place it.
 */
export function parseLocation(text: string, index: StationIndex): ParsedLocation {
  const norm = normalize(text);
  const out: ParsedLocation = {
    stationId: null,
    stationName: null,
    alternatives: [],
    line: null,
    direction: null,
    busRoute: null,
    busNumber: null,
    railcar: null,
  };
  const consumed = new Set<number>();
  const tokens = norm.split(' ').filter(Boolean);

  // Bus: "#9 bus 1234", "bus 1234 on route 9", "the 9 bus #1234", "autobus 1234 linia 9".
  const busNum =
    new RegExp(`${BUS}\\s*(?:#|no |number |numero |nr |号)?\\s*(\\d{4})(?!\\d)`).exec(norm) ??
    new RegExp(`#?(\\d{4})\\s*(?:号)?\\s*${BUS}`).exec(norm);
  if (busNum) out.busNumber = busNum[1]!;
  const route =
    /(?:#|route |rt |ruta |linea |linia |路线 |路 )\s*(\d{1,3}[a-z]?)(?![\d])/.exec(norm) ??
    new RegExp(`(?:^|\\s)(\\d{1,3}[a-z]?)\\s*(?:路\\s*)?${BUS}`).exec(norm) ??
    new RegExp(`${BUS}\\s+(\\d{1,3}[a-z]?)(?=\\s|$)`).exec(norm) ??
    /(\d{1,3})\s*路/.exec(norm);
  if (route && route[1] !== out.busNumber && (out.busNumber || new RegExp(BUS).test(norm))) out.busRoute = route[1]!.toUpperCase();

  // Railcar: "car 5001", "car #5001", "vagon 5001", "wagon 5001", "5001号车厢".
  const car =
    new RegExp(`${CAR}\\s*(?:#|no |number |nr |号)?\\s*(\\d{4})(?!\\d)`).exec(norm) ??
    new RegExp(`(\\d{4})\\s*(?:号)?\\s*(?:车厢|${CAR})`).exec(norm);
  if (car && car[1] !== out.busNumber) out.railcar = car[1]!;

  // Line colour: a colour word (or a near miss, "purpel") next to a word meaning line or train,
  // or any exact colour word when nothing else is coloured.
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    let code = LINE_WORDS[t];
    if (!code && t.length >= 4) {
      const near = Object.keys(LINE_WORDS).find((w) => w.length >= 4 && editDistance(t, w, 1) <= 1);
      const ctx = (tokens[i + 1] ?? '') + ' ' + (tokens[i - 1] ?? '');
      if (near && ctx.split(' ').some((w) => LINE_CONTEXT.test(w))) code = LINE_WORDS[near];
    }
    if (code) {
      out.line = code;
      consumed.add(i);
      if (LINE_CONTEXT.test(tokens[i + 1] ?? '')) consumed.add(i + 1);
      break;
    }
  }
  const zh = /([红蓝棕绿橙紫粉黄])线/.exec(norm);
  if (!out.line && zh) out.line = LINE_WORDS[zh[1]!] ?? null;
  for (const [re, dir] of DIRECTIONS) {
    if (re.test(norm)) {
      out.direction = dir;
      break;
    }
  }
  tokens.forEach((t, i) => {
    if (/\d{3,}/.test(t) || t.startsWith('#')) consumed.add(i);
  });

  // Station: every run of 1..4 words against every spelling of every station.
  const cands: Candidate[] = [];
  for (let start = 0; start < tokens.length; start++) {
    for (let len = 1; len <= 4 && start + len <= tokens.length; len++) {
      const idx = Array.from({ length: len }, (_, k) => start + k);
      if (idx.some((k) => consumed.has(k))) break;
      const words = tokens.slice(start, start + len);
      const phrase = words.join(' ');
      if (len === 1 && NOT_A_STATION.has(phrase)) continue;
      const joined = words.join('');
      for (const e of index.entries) {
        if (Math.abs(e.words - len) > 1) continue;
        const exact = phrase === e.alias || joined === e.alias.replace(/ /g, '');
        let dist = exact ? 0 : Infinity;
        if (!exact && !/\d/.test(phrase)) {
          const tol = tolerance(e.alias.length);
          if (tol > 0) dist = Math.min(editDistance(phrase, e.alias, tol), editDistance(joined, e.alias.replace(/ /g, ''), tol));
          if (dist > tol) dist = Infinity;
        }
        if (dist === Infinity) continue;
        // Longer, exact spellings beat short or approximate ones ("Clark/Lake" over "Lake").
        const score = e.alias.length * 2 - dist * 4 + (exact ? 1 : 0);
        cands.push({ station: e.station, score, start, end: start + len });
      }
    }
  }
  if (cands.length === 0) return out;
  const bestScore = Math.max(...cands.map((c) => c.score));
  const top = cands.filter((c) => c.score === bestScore);
  const name = top[0]!.station.name;
  // Several stations share a name (two Belmonts, five Ashlands): the line decides; else the
  // busiest (most lines) one, with the others listed for the operator.
  const same = [...new Map(index.entries.filter((e) => e.station.name === name).map((e) => [e.station.id, e.station])).values()];
  const pick =
    (out.line ? same.find((s) => s.lines.includes(out.line!)) : undefined) ?? [...same].sort((a, b) => b.lines.length - a.lines.length)[0]!;
  out.stationId = pick.id;
  out.stationName = pick.name;
  out.alternatives = same.filter((s) => s.id !== pick.id).map((s) => ({ id: s.id, name: s.name, lines: s.lines }));
  return out;
}

/** True when the text gave something the map can place. */
export function hasPlace(p: ParsedLocation): boolean {
  return p.stationId !== null || p.busNumber !== null || p.railcar !== null;
}
