/**
 * Deterministic sample data for the demo: customers with names, emails, phone numbers and (Luhn-valid
 * test) card numbers, and their orders. The same every run, so walkthroughs and screenshots match.
 */

const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Margaret', 'Ken', 'Radia', 'Tim', 'Frances', 'John', 'Hedy', 'Linus', 'Sophie', 'Dennis'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Hamilton', 'Thompson', 'Perlman', 'Berners-Lee', 'Allen', 'McCarthy', 'Lamarr', 'Torvalds', 'Wilson', 'Ritchie'];
const STATUS = ['paid', 'shipped', 'delivered', 'refunded', 'pending'];

/** A small PRNG (mulberry32) so the data is the same on every machine. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Append the Luhn check digit to a string of digits. */
export function withLuhn(digits: string): string {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits + String((10 - (sum % 10)) % 10);
}

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** SQL that creates and fills the demo schema (customers, orders). */
export function demoSql(customers = 200, orders = 1000): string {
  const r = rng(42);
  const pick = <T>(a: T[]) => a[Math.floor(r() * a.length)];
  const lines = [
    'CREATE TABLE customers (id int PRIMARY KEY, full_name text NOT NULL, email text NOT NULL, phone text, card_number text, created_at timestamptz NOT NULL);',
    'CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers(id), total numeric(10,2) NOT NULL, status text NOT NULL, created_at timestamptz NOT NULL);',
  ];
  const base = Date.UTC(2026, 0, 1);
  const rows: string[] = [];
  for (let i = 1; i <= customers; i++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    const email = `${first}.${last}${i}@example.com`.toLowerCase();
    const phone = `+1-555-${String(100 + Math.floor(r() * 900))}-${String(1000 + Math.floor(r() * 9000))}`;
    const card = withLuhn('4000' + String(Math.floor(r() * 1e11)).padStart(11, '0'));
    const at = new Date(base + Math.floor(r() * 300) * 86400000).toISOString();
    rows.push(`(${i}, ${q(`${first} ${last}`)}, ${q(email)}, ${q(phone)}, ${q(card)}, ${q(at)})`);
  }
  lines.push(`INSERT INTO customers VALUES\n${rows.join(',\n')};`);
  const ords: string[] = [];
  for (let i = 1; i <= orders; i++) {
    const at = new Date(base + Math.floor(r() * 320) * 86400000).toISOString();
    ords.push(`(${i}, ${1 + Math.floor(r() * customers)}, ${(5 + r() * 495).toFixed(2)}, ${q(pick(STATUS))}, ${q(at)})`);
  }
  lines.push(`INSERT INTO orders VALUES\n${ords.join(',\n')};`);
  return lines.join('\n') + '\n';
}
