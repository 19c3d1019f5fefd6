import { defineElement, noChildren } from '../element.js';
import { quote } from '../problems.js';
import type { DialTarget } from '../types.js';

const NUMBER = /^\+?[0-9 ().-]+$/;
const SIP_URI = /^sips?:[^\s<>"]+$/i;

export const toElement = defineElement({
  name: 'To',
  role: 'part',
  home: 'inside a <Dial>',
  attributes: {},
  text: true,
  children: noChildren,
  build: ({ text, base, node }): DialTarget | undefined => {
    const content = text.trim();
    if (!content) {
      node.report('missing_attribute', '<To> needs a phone number or a SIP URI as its content');
      return undefined;
    }
    if (SIP_URI.test(content)) return { kind: 'To', ...base, type: 'sip', value: content };
    if (NUMBER.test(content)) {
      const value = content.replace(/[ ().-]/g, '');
      const digits = value.replace('+', '').length;
      if (digits >= 2 && digits <= 20) return { kind: 'To', ...base, type: 'number', value };
    }
    node.report(
      'invalid_value',
      `<To> content ${quote(content)} is not valid: expected a phone number (2 to 20 digits, optionally starting with +) or a sip: or sips: URI`,
    );
    return undefined;
  },
});
