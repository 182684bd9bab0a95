/**
 * `npm run -s token -- --sub <subject> [--admin] [--verifier] [--email <address> --email-verified] [--ttl <seconds>]`
 * prints one token signed by the local development issuer of DATA_DIR (default .data) on
 * stdout, and nothing else, so `$(npm run -s token -- --sub alice)` works in a shell.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { mintDevToken } from './devIssuer.ts';

const usage = 'usage: npm run -s token -- --sub <subject> [--admin] [--verifier] [--email <address> [--email-verified]] [--ttl <seconds>]';

const fail = (message: string): never => {
  console.error(`${message}\n${usage}`);
  process.exit(2);
};

const parseOptions = () =>
  parseArgs({
    options: {
      sub: { type: 'string' },
      admin: { type: 'boolean', default: false },
      verifier: { type: 'boolean', default: false },
      email: { type: 'string' },
      'email-verified': { type: 'boolean', default: false },
      ttl: { type: 'string', default: '3600' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });

const parsed = (() => {
  try {
    return parseOptions();
  } catch (error) {
    return fail((error as Error).message);
  }
})();
const { values } = parsed;
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const subject = values.sub ?? fail('--sub is required');
if (!/^[\x21-\x7e]{1,255}$/.test(subject)) fail('--sub must be 1 to 255 visible ASCII characters');
if (values['email-verified'] && values.email === undefined) fail('--email-verified needs --email');
const ttlSeconds = Number(values.ttl);
if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 7 * 24 * 3600) fail('--ttl must be whole seconds from 1 to 604800');

const dataDir = path.resolve(process.env['DATA_DIR']?.trim() || '.data');
const token = await mintDevToken(dataDir, {
  subject,
  admin: values.admin,
  verifier: values.verifier,
  ...(values.email === undefined ? {} : { email: values.email, emailVerified: values['email-verified'] }),
  ttlSeconds,
});
process.stdout.write(`${token}\n`);
