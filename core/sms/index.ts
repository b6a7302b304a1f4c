import rateLimit from '@fastify/rate-limit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import twilio from 'twilio';
import { z } from 'zod';
import { SmsBlock, SmsInbound, SmsReply, SmsReveal, SmsShare, smsRoutes, type SmsConversation, type User } from '../../contract';
import { canSee } from '../access/visibility';
import type { CameraCatalog } from '../cameras/catalog';
import { SentinelError } from '../errors';
import type { Feature } from '../feature';
import type { Feeds } from '../feeds/feature';
import { parseInput } from '../http/errors';
import { detectLanguage, keyword, TEXTS } from './language';
import { hasPlace, indexStations, parseLocation, type StationIndex } from './location';
import { resolvePlace } from './place';
import { TwilioProvider, type SmsProvider } from './provider';
import { NumberVault, SmsStore } from './store';

export { SmsStore } from './store';

/** Texts from one number within this long of the last belong to one conversation (one incident). */
const CONVERSATION_WINDOW_MS = 4 * 3_600_000;
const IdParams = z.strictObject({ id: z.string().min(1).max(100) });
const ListQuery = z.strictObject({
  incidentId: z.string().min(1).max(100).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

/** What the SMS feature hands back to the core: its store, its provider and the retention sweep. */
export interface SmsServices {
  store: SmsStore;
  provider: SmsProvider;
  /** Deletes conversations past the retention period (hourly; tests run it directly). */
  sweep: () => Promise<void>;
}

function twiml(message: string | null): string {
  const r = new twilio.twiml.MessagingResponse();
  if (message) r.message(message);
  return r.toString();
}

/**
 * Rider text reports: Twilio's inbound webhook (signature-checked, rate-limited per number,
 * block list, STOP/HELP), each report filed as a `rider-report` alert placed by what it says
 * (so it becomes an incident, reaches liaisons in scope and escalates like any alert), an
 * automatic first answer in the rider's language, operator replies through the provider, and
 * privacy: numbers encrypted, masked, revealed only audited, deleted after the retention period.
 */
export const smsFeature: Feature<{ cameraRepo: CameraCatalog; feeds: Feeds }, { sms: SmsServices }> = {
  name: 'sms',
  async register(ctx) {
    const { http, sql, log, config, io, cameraRepo, feeds } = ctx;
    const cfg = config.sms;
    const store = new SmsStore(sql, new NumberVault(config.dataDir, config.keyProtection));
    const provider: SmsProvider = new TwilioProvider({
      baseUrl: cfg.apiBaseUrl,
      accountSid: cfg.accountSid,
      authToken: cfg.authToken ?? '',
      from: cfg.fromNumber,
      log: log.child({ name: 'sms-provider' }),
    });
    const blockList = new Set(cfg.blockList);
    const trail = ctx.audit.trail;
    let stationIndex: StationIndex | null = null;
    const stations = (): StationIndex => {
      // The geography is loaded by the feeds feature; without assets no station is recognised.
      stationIndex ??= indexStations(feeds.geo?.stations ?? []);
      return stationIndex;
    };
    const incidents = () => ctx.lifecycle.incidents;

    const notify = async (c: SmsConversation): Promise<void> => {
      const inc = c.incidentId ? await incidents().get(c.incidentId) : null;
      const rooms = [
        'alerts:all',
        ...(inc
          ? [
              ...inc.scope.lines.map((l: string) => `line:${l}`),
              ...inc.scope.routes.map((r: string) => `route:${r}`),
              ...(inc.scope.district ? [`district:${inc.scope.district}`] : []),
            ]
          : []),
      ];
      io.to(rooms).emit('sms:conversation', { conversationId: c.id, incidentId: c.incidentId });
    };

    /** Files a text as a rider-report alert at its place; returns the incident it joined or opened. */
    const file = async (conversationId: string, text: string): Promise<string | null> => {
      const loc = parseLocation(text, stations());
      const place = resolvePlace(loc, feeds.geo, feeds.service, cameraRepo.list());
      await store.setLocation(conversationId, loc, place.cameras);
      const first = place.cameras[0];
      const stored = await ctx.alerts.create({
        kind: 'rider-report',
        // Joining is by camera or vehicle: the place's first camera, or a key per place so two
        // texts about the same unwatched station still meet in one incident.
        cameraId: first?.id ?? `rider-report:${place.key ?? `unplaced:${conversationId}`}`,
        cameraName: place.label ?? 'unknown place (ask the rider)',
        zoneId: null,
        zoneName: null,
        score: 1,
        snapshotPath: null,
        trackIds: [],
        detail: { source: 'sms', conversationId, place: place.label, needsLocation: !hasPlace(loc) },
        scope: place.scope,
      });
      return (await incidents().forAlert(stored.alert.id))?.id ?? null;
    };

    const verify = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
      const signature = req.headers['x-twilio-signature'];
      const url = cfg.publicUrl ?? `${req.protocol}://${req.headers.host ?? ''}${req.url}`;
      const params = (req.body ?? {}) as Record<string, string>;
      const ok =
        typeof signature === 'string' && cfg.authToken !== undefined && twilio.validateRequest(cfg.authToken, signature, url, params);
      if (ok) return;
      const reason = !cfg.authToken
        ? 'no auth token configured'
        : typeof signature !== 'string'
          ? 'missing signature'
          : 'invalid signature';
      await trail.append({ action: 'sms.signature_rejected', target: null, detail: { reason }, ip: req.ip });
      log.warn({ reason, ip: req.ip }, 'SMS webhook refused');
      await reply
        .status(403)
        .type('application/json')
        .send({ error: { code: 'forbidden', message: `X-Twilio-Signature: ${reason}` } });
    };

    await http.register(async (app) => {
      // Twilio posts forms; only this plugin parses them, so no other route accepts a form body.
      app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
        done(null, Object.fromEntries(new URLSearchParams(body as string)));
      });
      await app.register(rateLimit, { global: false });
      app.post(
        smsRoutes.smsInbound.path,
        {
          preValidation: verify,
          config: {
            rateLimit: {
              max: cfg.rateLimit.max,
              timeWindow: cfg.rateLimit.windowS * 1000,
              // After the signature check, so forged requests cannot use up a rider's allowance.
              hook: 'preHandler',
              keyGenerator: (req) => `sms:${store.vault.hash(String((req.body as Record<string, unknown> | undefined)?.From ?? req.ip))}`,
              onExceeded: (req) => trail.append({ action: 'sms.rate_limited', target: null, detail: {}, ip: req.ip }),
              errorResponseBuilder: (_req, c) =>
                new SentinelError(`too many texts from this number; try again in ${Math.ceil(c.ttl / 1000)} s`, 'rate_limited'),
            },
          },
        },
        async (req, reply) => {
          const msg = parseInput(SmsInbound, req.body);
          reply.type('text/xml; charset=utf-8');
          const hash = await store.upsertNumber(msg.From);
          const state = await store.numberState(hash);
          if (state.blocked || blockList.has(msg.From)) {
            await trail.append({ action: 'sms.blocked_dropped', target: null, detail: { sid: msg.MessageSid }, ip: req.ip });
            return twiml(null);
          }
          const lang = detectLanguage(msg.Body);
          const kw = keyword(msg.Body);
          if (kw === 'stop') {
            await store.setOptOut(hash, true);
            await trail.append({ action: 'sms.opt_out', target: null, detail: { sid: msg.MessageSid }, ip: req.ip });
            return twiml(TEXTS[lang].stopped);
          }
          if (kw === 'start') {
            await store.setOptOut(hash, false);
            await trail.append({ action: 'sms.opt_in', target: null, detail: { sid: msg.MessageSid }, ip: req.ip });
            return twiml(TEXTS[lang].help);
          }
          if (kw === 'help') return twiml(state.optedOut ? null : TEXTS[lang].help);

          const {
            conversationId: convId,
            isNew,
            messageId,
          } = await store.receive(
            hash,
            CONVERSATION_WINDOW_MS,
            { language: lang, location: parseLocation('', stations()) },
            { direction: 'in', body: msg.Body, status: 'received', providerSid: msg.MessageSid },
          );
          if (messageId === null) return twiml(null); // The provider retried a message we already have.
          if (lang !== 'en') await store.setLanguage(convId, lang);
          const conv = (await store.get(convId))!;
          // A first text is filed at once; a later one re-files only when it names the place the first did not.
          if (isNew || (conv.needsLocation && hasPlace(parseLocation(msg.Body, stations())))) {
            try {
              await store.setIncident(convId, await file(convId, msg.Body));
            } catch (err) {
              // The text is stored either way: the operator still sees it in the conversation list.
              log.error({ err, conversationId: convId }, 'could not file the rider report as an incident');
            }
          }
          const after = (await store.get(convId))!;
          await notify(after);
          if (!isNew || state.optedOut) return twiml(null);
          const answer = after.needsLocation ? TEXTS[after.language].askPlace : TEXTS[after.language].received;
          await store.addMessage(convId, { direction: 'out', body: answer, status: 'sent', author: null });
          return twiml(answer);
        },
      );
    });

    // One visibility rule: a conversation is seen where its incident is (a text not yet filed
    // into an incident only by the roles that see every place).
    const visible = async (user: User, c: SmsConversation): Promise<boolean> => {
      const inc = c.incidentId ? await incidents().get(c.incidentId) : null;
      if (!inc) return canSee(user, { kind: 'incident', scope: { district: null, lines: [], routes: [] } });
      const reach = inc.reach ? { districts: inc.reach.districts, lines: inc.reach.lines, routes: inc.reach.routes } : undefined;
      return canSee(user, { kind: 'incident', scope: inc.scope, ...(reach ? { reach } : {}) });
    };
    /** Liaisons see the text and the place; the number (even masked) only once an operator shared it. */
    const shown = (user: User, c: SmsConversation): SmsConversation =>
      user.role === 'liaison' && !c.sharedWithLiaisons ? { ...c, numberMasked: 'hidden' } : c;
    const get = async (id: string, user: User): Promise<SmsConversation> => {
      const c = await store.get(id);
      if (!c || !(await visible(user, c))) throw new SentinelError(`no conversation with id ${id}`, 'not_found', 'id');
      return c;
    };

    http.get(smsRoutes.smsConversations.path, async (req) => {
      const q = parseInput(ListQuery, req.query, 'query');
      const user = req.auth!.user;
      const list = q.incidentId ? await store.byIncident(q.incidentId) : await store.list(q.limit ?? 200);
      const seen: SmsConversation[] = [];
      for (const c of list) if (await visible(user, c)) seen.push(shown(user, c));
      return { conversations: seen };
    });
    http.get(smsRoutes.smsConversation.path, async (req) => {
      const user = req.auth!.user;
      return shown(user, await get(parseInput(IdParams, req.params, 'params').id, user));
    });
    http.post(smsRoutes.smsReply.path, async (req) => {
      const c = await get(parseInput(IdParams, req.params, 'params').id, req.auth!.user);
      const { body } = parseInput(SmsReply, req.body);
      if (c.optedOut) throw new SentinelError('the rider texted STOP: no message may be sent to this number', 'conflict', 'id');
      const hash = (await store.numberHashOf(c.id))!;
      const id = (await store.addMessage(c.id, { direction: 'out', body, status: 'queued', author: req.auth!.user.username }))!;
      await ctx.audit.record(req, 'sms.reply', `sms:${c.id}`, { incidentId: c.incidentId, length: body.length });
      try {
        const sent = await provider.send(await store.numberOf(hash), body);
        await store.setMessageStatus(id, 'sent', sent.sid);
      } catch (err) {
        const reason = (err as Error).message;
        log.warn({ conversationId: c.id, reason }, 'SMS reply not sent');
        await store.setMessageStatus(id, `failed: ${reason}`.slice(0, 200));
      }
      await notify(c);
      return await store.message(id);
    });
    http.post(smsRoutes.smsReveal.path, async (req) => {
      const c = await get(parseInput(IdParams, req.params, 'params').id, req.auth!.user);
      const { reason } = parseInput(SmsReveal, req.body);
      await ctx.audit.record(req, 'sms.number_reveal', `sms:${c.id}`, { reason, incidentId: c.incidentId });
      return { number: await store.numberOf((await store.numberHashOf(c.id))!) };
    });
    http.post(smsRoutes.smsShare.path, async (req) => {
      const c = await get(parseInput(IdParams, req.params, 'params').id, req.auth!.user);
      const { shared } = parseInput(SmsShare, req.body);
      await store.setShared(c.id, shared);
      await ctx.audit.record(req, 'sms.share', `sms:${c.id}`, { shared, incidentId: c.incidentId });
      return { ok: true as const };
    });
    http.post(smsRoutes.smsBlock.path, async (req) => {
      const c = await get(parseInput(IdParams, req.params, 'params').id, req.auth!.user);
      const { reason } = parseInput(SmsBlock, req.body);
      await store.block((await store.numberHashOf(c.id))!, reason);
      await ctx.audit.record(req, 'sms.block', `sms:${c.id}`, { reason });
      return { ok: true as const };
    });

    // Never rejects: a failed sweep is logged and the next hour's tries again.
    const sweep = async (): Promise<void> => {
      try {
        const before = new Date(Date.now() - cfg.retentionDays * 86_400_000).toISOString();
        const r = await store.deleteOlderThan(before);
        if (r.conversations > 0)
          await trail.append({ action: 'sms.retention_delete', target: null, detail: { ...r, before, retentionDays: cfg.retentionDays } });
      } catch (err) {
        log.error({ err }, 'SMS retention sweep failed');
      }
    };
    // One replica sweeps the shared conversations at a time (its lease, core/cluster): two
    // sweeping together would each audit the same deletion.
    ctx.cluster.leases.job('sms-retention', () => {
      void sweep();
      const timer = setInterval(() => void sweep(), 3_600_000);
      timer.unref();
      return () => clearInterval(timer);
    });
    return { sms: { store, provider, sweep } };
  },
};
