import { describe, expect, it } from 'vitest';
import {
  BUILTIN_DETECTORS,
  contains,
  customDetector,
  ibanValid,
  ipv6Valid,
  luhnValid,
  mergeSpans,
  newProfile,
  profileBytes,
  profileString,
  type Detector,
  type Span,
  type ValueProfile,
} from '../../src/gateway/policy/masking/detectors';
import type { DetectorName } from '../../src/gateway/policy/policy-types';

/** What a detector finds in `text`, as substrings, pre-check included (as the masker runs it). */
function found(detector: Detector, text: string): string[] {
  if (!detector.pre(profileString(text, newProfile()))) return [];
  const spans: Span[] = [];
  detector.find(text, spans);
  // Overlapping hits of one detector (several phone formats, a prefix and the entropy test) mask as one.
  return mergeSpans(spans).map((s) => text.slice(s.start, s.end));
}
const find = (name: DetectorName, text: string) => found(BUILTIN_DETECTORS[name], text);

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const JWT = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub: '42', name: 'Alice' })}.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c`;

describe('value detectors', () => {
  it('email: inside free text, with subdomains, plus-tags and sentence punctuation', () => {
    expect(find('email', 'write to alice.smith+news@mail.example.co.uk, or bob@example.com.')).toEqual([
      'alice.smith+news@mail.example.co.uk',
      'bob@example.com',
    ]);
    expect(find('email', 'Key (email)=(ünïcode@exämple.de) already exists.')).toEqual(['ünïcode@exämple.de']);
  });

  it('email: look-alikes are left alone', () => {
    for (const text of ['user@localhost', '@handle on social', 'a@b.c', 'meet @ 5.30pm', 'x@.com', 'name@domain.123', 'git@github']) {
      expect(find('email', text), text).toEqual([]);
    }
  });

  it('phone: E.164 and national formats inside text', () => {
    expect(find('phone', 'call +1 (555) 123-4567 or +44 20 7946 0958 today')).toEqual(['+1 (555) 123-4567', '+44 20 7946 0958']);
    expect(find('phone', 'office: (555) 123-4567; cell 555-987-6543; fax 555.222.3333')).toEqual(['(555) 123-4567', '555-987-6543', '555.222.3333']);
    expect(find('phone', 'London 020 7946 0958, mobile +4915112345678')).toEqual(['020 7946 0958', '+4915112345678']);
  });

  it('phone: plain integers, dates, times, versions and IPs are not phone numbers', () => {
    for (const text of ['12345678', 'order 5551234567', '2024-01-02', '2024-01-02 12:34:56', '12.03.2024', '1.2.3.4.5', '192.168.100.200', 'id 42', '+12', 'v10.11.12.13', '3.14159265358979', '+3.14159265', 'score +12345678901234567']) {
      expect(find('phone', text), text).toEqual([]);
    }
  });

  it('payment_card: Luhn-valid 13-19 digits with spaces or dashes', () => {
    expect(find('payment_card', 'visa 4111 1111 1111 1111 and mc 5500-0000-0000-0004, amex 378282246310005')).toEqual([
      '4111 1111 1111 1111',
      '5500-0000-0000-0004',
      '378282246310005',
    ]);
    expect(find('payment_card', '4111111111111111')).toEqual(['4111111111111111']);
  });

  it('payment_card: invalid Luhn, too short/long, zeros and substrings of longer numbers do not match', () => {
    for (const text of ['4111 1111 1111 1112', '411111111111', '41111111111111111111111', '0000000000000000', 'ref 12345678901234567890', 'ts 2024-01-02 12:34:56']) {
      expect(find('payment_card', text), text).toEqual([]);
    }
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
  });

  it('iban: printed and compact, mod-97 and country length checked', () => {
    expect(find('iban', 'pay to DE89 3704 0044 0532 0130 00 please')).toEqual(['DE89 3704 0044 0532 0130 00']);
    expect(find('iban', 'GB82WEST12345698765432 / NL91ABNA0417164300')).toEqual(['GB82WEST12345698765432', 'NL91ABNA0417164300']);
    expect(find('iban', 'GB82 WEST 1234 5698 7654 32 THE END')).toEqual(['GB82 WEST 1234 5698 7654 32']);
    expect(ibanValid('DE89370400440532013000')).toBe(true);
  });

  it('iban: wrong checksum, wrong length, unknown country and ordinary codes do not match', () => {
    for (const text of ['DE88 3704 0044 0532 0130 00', 'DE89 3704 0044 0532 0130 0', 'ZZ89370400440532013000', 'AB12 CD34 EF56 GH78 IJ90', 'ISO 8601 UTC2024']) {
      expect(find('iban', text), text).toEqual([]);
    }
  });

  it('us_ssn: AAA-GG-SSSS with the never-issued ranges excluded', () => {
    expect(find('us_ssn', 'ssn 123-45-6789, spouse 078-05-1120')).toEqual(['123-45-6789', '078-05-1120']);
    for (const text of ['000-12-3456', '666-12-3456', '912-34-5678', '123-00-4567', '123-45-0000', '1123-45-6789', '123-45-67890', '2024-01-02', '123456789']) {
      expect(find('us_ssn', text), text).toEqual([]);
    }
  });

  it('ipv4: addresses in text; versions, long dotted numbers and bad octets are not', () => {
    expect(find('ipv4', 'from 10.0.0.1 and 192.168.1.254.')).toEqual(['10.0.0.1', '192.168.1.254']);
    for (const text of ['1.2.3.4.5', 'version 1.2.3.4.5', 'v1.2.3.4', '256.1.1.1', '01.2.3.4', '3.14', '1.2.3']) {
      expect(find('ipv4', text), text).toEqual([]);
    }
  });

  it('ipv6: full, compressed and IPv4-embedded forms; times, MACs and C++ scopes are not', () => {
    expect(find('ipv6', 'hosts 2001:db8::1, fe80::1ff:fe23:4567:890a and ::ffff:192.0.2.128.')).toEqual([
      '2001:db8::1',
      'fe80::1ff:fe23:4567:890a',
      '::ffff:192.0.2.128',
    ]);
    expect(find('ipv6', '2001:0db8:85a3:0000:0000:8a2e:0370:7334')).toEqual(['2001:0db8:85a3:0000:0000:8a2e:0370:7334']);
    for (const text of ['12:34:56', '2024-01-02T12:34:56.789Z', '00:1a:2b:3c:4d:5e', 'std::cout', 'a::b::c', 'ratio 1:2:3', '::']) {
      expect(find('ipv6', text), text).toEqual([]);
    }
    expect(ipv6Valid('1:2:3:4:5:6:7:8')).toBe(true);
    expect(ipv6Valid('1:2:3:4:5:6:7:8:9')).toBe(false);
    expect(ipv6Valid('1::2::3')).toBe(false);
  });

  it('jwt: three base64url parts whose header is JSON with alg', () => {
    expect(find('jwt', `Authorization: Bearer ${JWT}`)).toEqual([JWT]);
    const noAlg = `${b64url({ typ: 'JWT' })}.${b64url({ sub: '1' })}.abc`;
    const notJson = `eyJhbGciOiJIUzI1NiJ9garbage.eyJzdWIiOiIxIn0.abc`;
    for (const text of [noAlg, notJson, 'eyJ.two.parts', 'file.name.txt']) expect(find('jwt', text), text).toEqual([]);
  });

  it('aws_access_key: AKIA/ASIA + 16 uppercase alphanumerics, whole words only', () => {
    expect(find('aws_access_key', 'key=AKIAIOSFODNN7EXAMPLE; temp ASIAY34FZKBOKMUTVV7A')).toEqual(['AKIAIOSFODNN7EXAMPLE', 'ASIAY34FZKBOKMUTVV7A']);
    for (const text of ['AKIAIOSFODNN7EXAMPL', 'XAKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLEX', 'akiaiosfodnn7example']) {
      expect(find('aws_access_key', text), text).toEqual([]);
    }
  });

  it('pem_private_key: whole blocks of any key type; a truncated block to the end; public keys not', () => {
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----';
    expect(find('pem_private_key', `key:\n${pem}\nend`)).toEqual([pem]);
    const pkcs8 = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----';
    expect(find('pem_private_key', pkcs8)).toEqual([pkcs8]);
    expect(find('pem_private_key', 'x -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk')).toEqual(['-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk']);
    expect(find('pem_private_key', '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----')).toEqual([]);
    expect(find('pem_private_key', '-----BEGIN CERTIFICATE-----')).toEqual([]);
  });

  it('api_token: vendor prefixes and high-entropy mixed tokens', () => {
    const gh = 'ghp_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8';
    expect(find('api_token', `token ${gh} here`)).toEqual([gh]);
    expect(find('api_token', 'stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc')).toEqual(['sk_live_4eC39HqLyjWDarjtT1zdp7dc']);
    expect(find('api_token', 'slack xoxb-1234567890-abcdefghij')).toEqual(['xoxb-1234567890-abcdefghij']);
    expect(find('api_token', 'secret: q8Zr2LmX9vT4kP7nW3yB6cJ1')).toEqual(['q8Zr2LmX9vT4kP7nW3yB6cJ1']);
  });

  it('api_token: UUIDs, hex digests, words, identifiers and URLs are not tokens (by design)', () => {
    for (const text of [
      '123e4567-e89b-12d3-a456-426614174000',
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      'Internationalization and localization',
      'customer_reference_number_2024',
      'ThisIsAVeryLongCamelCaseIdentifier',
      'https://example.com/api/v1/Users/12/Orders',
      'task-management-dashboard-v2',
      'sk-learn is a library',
    ]) {
      expect(find('api_token', text), text).toEqual([]);
    }
  });

  it('custom detectors: a regex, zero-length matches ignored', () => {
    const d = customDetector('employee_id', 'EMP-\\d{6}');
    expect(found(d, 'by EMP-123456 and EMP-654321, not EMP-12')).toEqual(['EMP-123456', 'EMP-654321']);
    expect(found(customDetector('empty', 'x*'), 'abc')).toEqual([]);
    expect(() => customDetector('bad', '(')).toThrow(SyntaxError);
  });

  it('ordinary values pass every pre-check cheaply (nothing to search)', () => {
    const p = newProfile();
    for (const text of ['Alice Johnson', 'The quick brown fox jumps over the lazy dog.', 'Order #4521 shipped', 'Main St 12, Springfield', '42', '']) {
      const bytes = Buffer.from(text);
      profileBytes(bytes, 0, bytes.length, p);
      const passing = Object.values(BUILTIN_DETECTORS).filter((d) => d.pre(p)).map((d) => d.name);
      expect(passing, text).toEqual([]);
    }
  });

  it('byte and string profiles agree (multi-byte UTF-8 counts for nothing)', () => {
    const text = 'Zoë eyJ x@y.z ----- 12:34 AKIA_ab-9';
    const bytes = Buffer.from(text);
    const counts = (p: ValueProfile) => ({ ...p, length: 0, source: null, start: 0, end: 0 });
    const a = profileBytes(bytes, 0, bytes.length, newProfile());
    const b = profileString(text, newProfile());
    expect(counts(a)).toEqual(counts(b));
    expect(a).toMatchObject({ digits: 5, at: 1, colon: 1, dot: 1, dash: 6, maxTokenRun: 9 });
    expect(contains(a, 'eyJ') && contains(b, 'eyJ')).toBe(true);
    // Only inside the profiled range.
    const sub = profileBytes(bytes, 8, bytes.length, newProfile());
    expect(contains(sub, 'eyJ')).toBe(false);
  });
});
