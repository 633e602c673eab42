import pg from 'pg';

/**
 * The PostgreSQL version and the settings that decide what a commit survives,
 * as printed beside every spool-postgres figure.
 * @example
 * await serverSettings(url); // 'PostgreSQL 18.4, fsync=on, synchronous_commit=on, full_page_writes=on'
 */
export async function serverSettings(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const show = async (name: string): Promise<string> => {
      const { rows } = await client.query(`SHOW ${name}`);
      return String(Object.values(rows[0] ?? {})[0]);
    };
    const version = (await show('server_version')).split(' ')[0];
    const settings = [];
    for (const name of ['fsync', 'synchronous_commit', 'full_page_writes']) settings.push(`${name}=${await show(name)}`);
    return `PostgreSQL ${version}, ${settings.join(', ')}`;
  } finally {
    await client.end();
  }
}
