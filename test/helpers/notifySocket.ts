import { join } from 'node:path';
import { startProcess, type RunningProcess } from './childProcess.ts';

/**
 * A stand-in for systemd's notify socket: a unix datagram socket bound in `dir`, one line per
 * datagram (its `VAR=value` fields joined by `|`). Node has no unix datagram sockets, so Perl
 * (perl-base is essential on Debian) binds it. Its plain recv() takes no file descriptors, so the
 * kernel closes the one systemd-notify passes for its barrier and systemd-notify returns at once,
 * as it does under systemd.
 */
export interface NotifySocket {
  path: string;
  /** every datagram received so far, in order */
  messages(): string[];
  /** how many datagrams carried `field` (e.g. `WATCHDOG=1`) */
  count(field: string): number;
  stop(): Promise<void>;
}

const RECEIVER = String.raw`
use strict; use Socket;
my $path = shift;
socket(my $s, AF_UNIX, SOCK_DGRAM, 0) or die "socket: $!";
unlink $path;
bind($s, pack_sockaddr_un($path)) or die "bind: $!";
$| = 1;
print "listening\n";
while (defined(recv($s, my $buf, 65536, 0))) { $buf =~ s/\n/|/g; print "msg $buf\n"; }
`;

export async function startNotifySocket(dir: string): Promise<NotifySocket> {
  const path = join(dir, 'notify.sock');
  const proc: RunningProcess = startProcess('perl', ['-e', RECEIVER, path]);
  await proc.waitForLine(/^listening$/, 10_000);
  const messages = (): string[] => proc.lines.filter((l) => l.startsWith('msg ')).map((l) => l.slice(4));
  return {
    path,
    messages,
    count: (field) => messages().filter((m) => m.split('|').includes(field)).length,
    async stop() {
      await proc.stop();
    },
  };
}
