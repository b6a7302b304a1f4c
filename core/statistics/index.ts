import { z } from 'zod';
import { statisticsRoutes } from '../../contract';
import { SentinelError } from '../errors';
import { loadOrCreateSigningKey } from '../evidence/keys';
import type { Feature } from '../feature';
import { parseInput } from '../http/errors';
import { buildMonth, checkMonth, published, publishedMonths, publishMonth } from './publish';

const MonthParams = z.strictObject({ month: z.string().max(20) });
const FileParams = z.strictObject({ file: z.string().max(64) });
const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Monthly statistics: the admin previews and publishes a month (audited); published months,
 * and only those, are served without sign-in under /public/statistics/ with their signed
 * manifest and the installation's public key. Everything unpublished needs an admin session.
 */
export const statisticsFeature: Feature = {
  name: 'statistics',
  register(ctx) {
    const { http, sql, config } = ctx;

    http.get(statisticsRoutes.statisticsMonths.path, async () => {
      const pub = new Map((await publishedMonths(sql)).map((p) => [p.month, p]));
      // The last twelve months, newest first, plus any older published one.
      const now = new Date();
      const months = new Set<string>([...pub.keys()]);
      for (let i = 0; i < 12; i++) {
        const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i, 1));
        months.add(`${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`);
      }
      return {
        months: [...months]
          .sort()
          .reverse()
          .map((m) => ({ month: m, published: pub.get(m) ?? null })),
      };
    });
    http.get(statisticsRoutes.statisticsPreview.path, async (req, reply) => {
      const { month } = parseInput(MonthParams, req.params, 'params');
      return reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .send((await buildMonth(sql, month)).html);
    });
    http.post(statisticsRoutes.statisticsPublish.path, async (req) => {
      const { month } = parseInput(MonthParams, req.params, 'params');
      const p = await publishMonth(sql, config.dataDir, config.keyProtection, checkMonth(month), req.auth!.user.username);
      await ctx.audit.record(req, 'statistics.publish', `statistics:${month}`, {
        sha256: Object.fromEntries(Object.entries(p.manifest.files).map(([k, v]) => [k, v.sha256])),
        fingerprint: p.manifest.fingerprint,
      });
      return { month, publishedAt: p.publishedAt, publishedBy: p.publishedBy, fingerprint: p.manifest.fingerprint };
    });

    http.get(statisticsRoutes.publicStatistics.path, async (_req, reply) => {
      const list = await publishedMonths(sql);
      const items = list
        .map(
          (p) =>
            `<li><a href="${p.month}.html">${p.month}</a> — <a href="${p.month}.csv">CSV</a>, <a href="${p.month}.manifest.json">signed manifest</a> (<a href="${p.month}.sig">signature</a>)</li>`,
        )
        .join('');
      const key = loadOrCreateSigningKey(config.dataDir, config.keyProtection);
      return reply.type('text/html; charset=utf-8')
        .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>CTA Sentinel monthly statistics</title></head><body>
<h1>CTA Sentinel monthly statistics</h1>${list.length ? `<ul>${items}</ul>` : '<p>No month has been published yet.</p>'}
<p>Each month is signed with this installation's key (fingerprint <code>${esc(key.fingerprint)}</code>, <a href="key.pem">key.pem</a>). Check a download with
<code>sentinel report verify DIR/YYYY-MM.manifest.json --key key.pem</code>.</p></body></html>`);
    });
    http.get(statisticsRoutes.publicStatisticsFile.path, async (req, reply) => {
      const { file } = parseInput(FileParams, req.params, 'params');
      if (file === 'key.pem')
        return reply.type('application/x-pem-file').send(loadOrCreateSigningKey(config.dataDir, config.keyProtection).publicKeyPem);
      const m = /^(\d{4}-\d{2})\.(html|csv|manifest\.json|sig)$/.exec(file);
      const p = m ? await published(sql, m[1]!) : null;
      // An unpublished month reads exactly like one that does not exist.
      if (!m || !p) throw new SentinelError(`no published statistics ${file}`, 'not_found', 'file');
      reply.header('cache-control', 'public, max-age=300');
      switch (m[2]) {
        case 'html':
          return reply.type('text/html; charset=utf-8').send(p.html);
        case 'csv':
          return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${p.month}.csv"`).send(p.csv);
        case 'manifest.json':
          return reply.type('application/json').send(p.manifestJson);
        default:
          return reply.type('text/plain').send(p.signature);
      }
    });
  },
};
