import { describe, expect, it } from 'vitest';
import { detectLanguage, keyword, TEXTS } from './language';

describe('rider language', () => {
  it.each([
    ['Man with a knife at Belmont', 'en'],
    ['Estoy en Belmont, un hombre me sigue', 'es'],
    ['¿Hay alguien? pelea en el tren', 'es'],
    ['Jestem na stacji Belmont, ktoś mnie śledzi', 'pl'],
    ['jestem w pociagu linia czerwona, bojka', 'pl'],
    ['我在Belmont站，有人跟踪我', 'zh'],
    ['Belmont', 'en'],
  ])('%s -> %s', (text, lang) => expect(detectLanguage(text)).toBe(lang));

  it('keeps every automatic answer to one short segment and never names a report or the police', () => {
    for (const t of Object.values(TEXTS)) {
      for (const s of Object.values(t)) {
        expect(s.length).toBeLessThanOrEqual(110);
        expect(s.toLowerCase()).not.toMatch(/report|police|policía|policja|警察|denuncia|zgłosz/);
      }
    }
  });

  it('knows the carrier keywords, and only as the whole message', () => {
    expect(keyword(' STOP ')).toBe('stop');
    expect(keyword('help')).toBe('help');
    expect(keyword('start')).toBe('start');
    expect(keyword('please help me')).toBeNull();
  });
});
