import { resolveDataDir } from '../../store/data-dir';
import { connectCli, type CliConnection } from '../cli-client';

/** Options every data command accepts. */
export interface CommonOptions {
  dataDir?: string;
  json?: boolean;
}

/** Run fn with a contract client for the chosen data dir, closing it afterwards. */
export async function withClient<T>(opts: CommonOptions, fn: (c: CliConnection) => Promise<T>): Promise<T> {
  const conn = await connectCli(resolveDataDir(opts.dataDir));
  try {
    return await fn(conn);
  } finally {
    conn.close();
  }
}
