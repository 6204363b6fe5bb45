/**
 * Writes what was appended to the ingest journal, and remembers whether the last write failed:
 * while it does, ingest holds PUBACKs back (blocked) and every later commit tries again. A commit
 * that wrote new entries is the `journalled` fact (once per commit, never once per entry).
 */
import type { Logger } from 'pino';
import type { EventBus } from '../events/eventBus.ts';
import type { IngestJournal } from '../ingest/journalEntry.ts';

export class JournalCommitter {
  /** the last journal commit failed: ingest holds back until one succeeds */
  private failing = false;
  private announcedId = 0;

  constructor(
    private readonly journal: Pick<IngestJournal, 'commit' | 'full' | 'lastId'>,
    private readonly bus: EventBus,
    private readonly log: Pick<Logger, 'info' | 'error'>,
  ) {}

  /** true while nothing more may be acknowledged upstream: the journal is full or cannot write */
  blocked(): boolean {
    return this.failing || this.journal.full();
  }

  /**
   * Writes the journal entries appended since the last commit; false when the write failed (they
   * stay staged, nothing after them may be acknowledged, and the next commit tries again).
   */
  commit(): boolean {
    try {
      this.journal.commit();
    } catch (err) {
      if (!this.failing) this.log.error({ err: (err as Error).message, code: (err as { code?: string }).code }, 'journal write failed; holding acknowledgements back');
      this.failing = true;
      return false;
    }
    if (this.failing) this.log.info('journal writes again');
    this.failing = false;
    const lastId = this.journal.lastId();
    if (lastId !== this.announcedId) {
      this.announcedId = lastId;
      this.bus.emit('journalled', { lastId });
    }
    return true;
  }
}
