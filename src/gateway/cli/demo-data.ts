/**
 * Deterministic sample data for the demo: customers with names, emails, phone numbers and Luhn-valid
 * test card numbers, and their orders. The same on every run and machine, so walkthroughs and
 * screenshots match. Emails use the reserved example.* domains and phones the fictional 555 exchange.
 */

const FIRST = [
  'Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Margaret', 'Ken', 'Radia', 'Tim', 'Frances', 'John',
  'Hedy', 'Linus', 'Sophie', 'Dennis', 'Katherine', 'Niklaus', 'Joan', 'Leslie', 'Evelyn', 'Bjarne', 'Anita', 'Guido',
  'Mary', 'Whitfield', 'Shafi', 'Tony', 'Jean', 'Vint',
];
const LAST = [
  'Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Hamilton', 'Thompson', 'Perlman', 'Berners-Lee',
  'Allen', 'McCarthy', 'Lamarr', 'Torvalds', 'Wilson', 'Ritchie', 'Johnson', 'Wirth', 'Clarke', 'Lamport', 'Boyd',
  'Stroustrup', 'Borg', 'van Rossum', 'Keller', 'Diffie', 'Goldwasser', 'Hoare', 'Bartik', 'Cerf',
];
const DOMAINS = ['example.com', 'example.org', 'example.net'];
/** Card prefixes of test-style numbers: Visa (4) and Mastercard (51-55), 16 digits with the check digit. */
const CARD_PREFIXES = ['4000', '4242', '5105', '5200', '5555'];
/** Order statuses with their weights (most orders are done). */
const STATUSES: [status: string, weight: number][] = [
  ['delivered', 55],
  ['shipped', 15],
  ['paid', 12],
  ['pending', 10],
  ['refunded', 5],
  ['cancelled', 3],
];

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

/** Append the Luhn check digit to a string of digits (as card numbers carry). */
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

/** One demo customer row. */
export interface DemoCustomer {
  id: number;
  fullName: string;
  email: string;
  phone: string;
  cardNumber: string;
  createdAt: Date;
}

/** One demo order row. */
export interface DemoOrder {
  id: number;
  customerId: number;
  total: string;
  status: string;
  createdAt: Date;
}

const DAY = 86_400_000;
const EPOCH = Date.UTC(2025, 0, 1);

/** The demo rows: `customers` customers and `orders` orders, each order after its customer signed up. */
export function demoRows(customers = 200, orders = 1000): { customers: DemoCustomer[]; orders: DemoOrder[] } {
  const r = rng(42);
  const pick = <T>(a: readonly T[]) => a[Math.floor(r() * a.length)];
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(r() * 10)).join('');
  const totalWeight = STATUSES.reduce((s, [, w]) => s + w, 0);
  const status = () => {
    let x = r() * totalWeight;
    for (const [s, w] of STATUSES) if ((x -= w) < 0) return s;
    return STATUSES[0][0];
  };

  const people: DemoCustomer[] = [];
  for (let id = 1; id <= customers; id++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    const local = `${first}.${last}`.toLowerCase().replace(/[^a-z.-]/g, '');
    people.push({
      id,
      fullName: `${first} ${last}`,
      email: `${local}${id}@${pick(DOMAINS)}`,
      phone: `+1-555-${String(200 + Math.floor(r() * 800))}-${digits(4)}`,
      cardNumber: withLuhn(pick(CARD_PREFIXES) + digits(11)),
      createdAt: new Date(EPOCH + Math.floor(r() * 365 * DAY)),
    });
  }
  const sales: DemoOrder[] = [];
  for (let id = 1; id <= orders; id++) {
    const buyer = people[Math.floor(r() * people.length)];
    sales.push({
      id,
      customerId: buyer.id,
      total: (5 + r() * r() * 995).toFixed(2),
      status: status(),
      createdAt: new Date(buyer.createdAt.getTime() + Math.floor(r() * 120 * DAY)),
    });
  }
  return { customers: people, orders: sales };
}

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** SQL that creates and fills the demo schema (customers, orders) in the current database. */
export function demoSql(customers = 200, orders = 1000): string {
  const rows = demoRows(customers, orders);
  return [
    'CREATE TABLE customers (id int PRIMARY KEY, full_name text NOT NULL, email text NOT NULL UNIQUE, phone text, card_number text, created_at timestamptz NOT NULL);',
    'CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers(id), total numeric(10,2) NOT NULL, status text NOT NULL, created_at timestamptz NOT NULL);',
    'CREATE INDEX orders_customer_id ON orders (customer_id);',
    'INSERT INTO customers VALUES',
    rows.customers.map((c) => `(${c.id}, ${q(c.fullName)}, ${q(c.email)}, ${q(c.phone)}, ${q(c.cardNumber)}, ${q(c.createdAt.toISOString())})`).join(',\n') + ';',
    'INSERT INTO orders VALUES',
    rows.orders.map((o) => `(${o.id}, ${o.customerId}, ${o.total}, ${q(o.status)}, ${q(o.createdAt.toISOString())})`).join(',\n') + ';',
    'ANALYZE customers, orders;',
    '',
  ].join('\n');
}
