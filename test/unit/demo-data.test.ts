import { describe, expect, it } from 'vitest';
import { demoRows, demoSql, withLuhn } from '../../src/gateway/cli/demo-data';

/** Luhn check, written here independently of the generator. */
function luhnValid(number: string): boolean {
  let sum = 0;
  [...number].reverse().forEach((ch, i) => {
    let d = Number(ch);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  });
  return sum % 10 === 0;
}

describe('demo data', () => {
  it('appends the Luhn check digit of known card numbers', () => {
    expect(withLuhn('424242424242424')).toBe('4242424242424242');
    expect(withLuhn('555555555555444')).toBe('5555555555554444');
    expect(withLuhn('7992739871')).toBe('79927398713');
  });

  it('makes 200 customers and 1000 orders, the same on every call', () => {
    const a = demoRows();
    expect(a.customers).toHaveLength(200);
    expect(a.orders).toHaveLength(1000);
    expect(demoRows()).toEqual(a);
    expect(demoSql()).toBe(demoSql());
  });

  it('gives every customer a unique email, a 555 phone and a Luhn-valid 16-digit card number', () => {
    const { customers } = demoRows();
    expect(new Set(customers.map((c) => c.email)).size).toBe(customers.length);
    for (const c of customers) {
      expect(c.email).toMatch(/^[a-z.-]+\d+@example\.(com|org|net)$/);
      expect(c.phone).toMatch(/^\+1-555-[2-9]\d{2}-\d{4}$/);
      expect(c.cardNumber).toMatch(/^(4\d|5[1-5])\d{14}$/);
      expect(luhnValid(c.cardNumber), c.cardNumber).toBe(true);
    }
    expect(luhnValid('4242424242424241')).toBe(false);
  });

  it('places each order on an existing customer, after the customer signed up, with a positive total', () => {
    const { customers, orders } = demoRows();
    const byId = new Map(customers.map((c) => [c.id, c]));
    for (const o of orders) {
      const c = byId.get(o.customerId);
      expect(c).toBeDefined();
      expect(o.createdAt.getTime()).toBeGreaterThanOrEqual(c!.createdAt.getTime());
      expect(Number(o.total)).toBeGreaterThan(0);
    }
    expect(new Set(orders.map((o) => o.status)).size).toBeGreaterThan(3);
  });
});
