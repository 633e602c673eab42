// Starts a throwaway PostgreSQL for manual work and prints its URL; Ctrl+C stops it.
import { startTestPostgres } from './postgres.ts';

const pg = await startTestPostgres({ log: (l) => process.env.VERBOSE && process.stderr.write(l) });
console.log(pg.url);
const stop = async () => {
  await pg.destroy();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
setInterval(() => {}, 1 << 30);
