import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { aesGcmPersonalDataKey, newDataKey } from '#adapters/crypto/aesGcmPersonalDataKey';
import { createLocalKeyWrapper } from '#adapters/crypto/localKeyWrapper';
import { median } from './support/measure.ts';

/**
 * npm run bench:sealing — on the deployed runtime: npx -y -p node@24 node --import tsx bench/sealing.bench.ts
 *
 * The cipher calls on their own, through the real adapters: µs per seal and per open of a
 * personal-data value (1,000 users' keys in turn), and per unwrap of a data key. Median of 5
 * rounds. Written to bench/results/sealing-node<major>.json, so Node versions can be compared.
 */

const USERS = 1_000;
const CALLS = 100_000;
const microsPerCall = (calls: number, run: (i: number) => void): number => {
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) run(i);
  return Math.round(Number(process.hrtime.bigint() - started) / calls / 10) / 100;
};

const keys = Array.from({ length: USERS }, () => aesGcmPersonalDataKey(newDataKey()));
const context = 'user-00000000-0000-4000-8000-000000000000:EmailChanged';
const value = JSON.stringify({ email: 'someone@example.com', displayName: 'Some One' });
const sealed = keys.map((key) => key.seal(value, context));
const wrapper = createLocalKeyWrapper(newDataKey());
const wrapped = await Promise.all(Array.from({ length: USERS }, (_, i) => wrapper.wrap(newDataKey(), `user-${i}`)));

const rounds = { seal: [] as number[], open: [] as number[], unwrap: [] as number[] };
for (let round = 0; round < 5; round++) {
  rounds.seal.push(microsPerCall(CALLS, (i) => keys[i % USERS]!.seal(value, context)));
  rounds.open.push(microsPerCall(CALLS, (i) => keys[i % USERS]!.open(sealed[i % USERS]!, context)));
  const started = process.hrtime.bigint();
  for (let i = 0; i < CALLS / 10; i++) await wrapper.unwrap(wrapped[i % USERS]!, `user-${i % USERS}`);
  rounds.unwrap.push(Math.round(Number(process.hrtime.bigint() - started) / (CALLS / 10) / 10) / 100);
}
const result = {
  node: process.version,
  openssl: process.versions.openssl,
  usPerSeal: median(rounds.seal),
  usPerOpen: median(rounds.open),
  usPerUnwrap: median(rounds.unwrap),
  rounds,
};
console.log(JSON.stringify(result));
const major = process.version.slice(1).split('.')[0];
writeFileSync(path.join(import.meta.dirname, 'results', `sealing-node${major}.json`), `${JSON.stringify(result, null, 2)}\n`);
