/** GET /api/health's `paging`: degraded while a channel's last attempt failed or a chain reached nobody. */
import type { PageChannel } from './channel.ts';
import type { PageSender } from './pageSender.ts';

export interface PagingHealth {
  status: 'up' | 'degraded';
  channels: Partial<Record<string, { sent: number; failed: number; retrying: number; failing: boolean; lastError: string | null }>>;
  openChains: number;
  failedChains: number;
  /** pages held back by the per-person grouping */
  held: number;
  reason?: string;
}

export function pagingHealth(channelList: readonly PageChannel[], sender: PageSender, failedChains: number, openChains: number): PagingHealth {
  const channels: PagingHealth['channels'] = {};
  let failing = false;
  for (const ch of channelList) {
    const s = sender.stats.get(ch.name)!;
    channels[ch.name] = { sent: s.sent, failed: s.failed, retrying: s.retrying, failing: s.failing, lastError: s.lastError };
    failing ||= s.failing;
  }
  return {
    status: failing || failedChains > 0 ? 'degraded' : 'up',
    channels, openChains, failedChains, held: sender.held,
    ...(channelList.length === 0 ? { reason: 'no channel configured (SMTP_URL, PAGE_WEBHOOK_URL)' } : {}),
  };
}
