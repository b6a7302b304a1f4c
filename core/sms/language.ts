import type { SmsLanguage } from '../../contract';
import { normalize } from './location';

/**
 * The rider's language, from the text alone: Chinese by its script, Polish and Spanish by
 * their letters and commonest words, English otherwise. English is the stated fallback (the
 * CTA's default), also for texts too short to tell ("Belmont"). No kept detector handles
 * two-word texts in these four languages reliably, so this is a small word list instead.
 */
const POLISH = new Set([
  'jestem',
  'na',
  'stacji',
  'mnie',
  'sie',
  'jest',
  'pomocy',
  'pomoc',
  'linia',
  'wagon',
  'wagonie',
  'pociagu',
  'autobusie',
  'mezczyzna',
  'bojka',
  'nie',
  'ktos',
  'prosze',
  'tutaj',
  'czerwona',
  'niebieska',
  'zielona',
  'pijany',
]);
const SPANISH = new Set([
  'estoy',
  'en',
  'el',
  'la',
  'un',
  'una',
  'hombre',
  'mujer',
  'me',
  'sigue',
  'ayuda',
  'linea',
  'vagon',
  'autobus',
  'estacion',
  'pelea',
  'hay',
  'con',
  'por',
  'favor',
  'tren',
  'roja',
  'azul',
  'verde',
  'armado',
  'hacia',
  'norte',
  'sur',
  'ruta',
  'alguien',
  'aqui',
]);

export function detectLanguage(text: string): SmsLanguage {
  if (/[\u3400-\u9fff]/.test(text)) return 'zh';
  if (/[ąćęłńśźżĄĆĘŁŃŚŹŻ]/.test(text)) return 'pl';
  const words = normalize(text).split(' ');
  const pl = words.filter((w) => POLISH.has(w)).length;
  const es = words.filter((w) => SPANISH.has(w)).length + (/[ñ¿¡]/.test(text) ? 2 : 0);
  if (pl >= 2 && pl > es) return 'pl';
  if (es >= 2 && es > pl) return 'es';
  return 'en';
}

/**
 * What the rider reads. Short and plain, and discreet: someone reading over the rider's
 * shoulder sees an ordinary message, never "your report" or "police".
 */
export const TEXTS: Record<SmsLanguage, { received: string; askPlace: string; help: string; stopped: string }> = {
  en: {
    received: 'Got it, thanks. Stay where you feel safe. We may text you a question.',
    askPlace: 'Got it, thanks. Where are you? Station, or bus/train number.',
    help: 'CTA text line. Text where you are and what is happening. Emergency: call 911. Reply STOP to end.',
    stopped: 'You will get no more messages. Text START to resume.',
  },
  es: {
    received: 'Recibido, gracias. Quédese donde se sienta seguro. Quizás le escribamos.',
    askPlace: 'Recibido, gracias. ¿Dónde está? Estación, o número de autobús/tren.',
    help: 'Línea de texto CTA. Escriba dónde está y qué pasa. Emergencia: llame al 911. STOP para terminar.',
    stopped: 'No recibirá más mensajes. Escriba START para reanudar.',
  },
  pl: {
    received: 'Otrzymano, dziękujemy. Proszę zostać w bezpiecznym miejscu. Możemy napisać.',
    askPlace: 'Otrzymano, dziękujemy. Gdzie jesteś? Stacja lub numer autobusu/pociągu.',
    help: 'Linia SMS CTA. Napisz, gdzie jesteś i co się dzieje. Nagły wypadek: 911. STOP kończy.',
    stopped: 'Nie otrzymasz więcej wiadomości. Wyślij START, aby wznowić.',
  },
  zh: {
    received: '收到，谢谢。请留在安全的地方。我们可能会发短信问您。',
    askPlace: '收到，谢谢。您在哪里？车站，或公交/列车编号。',
    help: 'CTA短信热线。请告诉我们您的位置和情况。紧急情况请拨打911。回复STOP停止。',
    stopped: '您将不再收到消息。回复START恢复。',
  },
};

/** Carrier keywords (CTIA): STOP and its synonyms opt out, START/UNSTOP opt back in, HELP/INFO answer. */
export function keyword(text: string): 'stop' | 'start' | 'help' | null {
  const t = text.trim().toLowerCase();
  if (['stop', 'stopall', 'unsubscribe', 'cancel', 'end', 'quit', 'alto', 'parar'].includes(t)) return 'stop';
  if (['start', 'unstop', 'yes'].includes(t)) return 'start';
  if (['help', 'info', 'ayuda', 'pomoc', '帮助'].includes(t)) return 'help';
  return null;
}
