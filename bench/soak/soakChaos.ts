import { status } from '@grpc/grpc-js';
import type { EsdbEmulator } from '#test/support/esdb-emulator/index';

export interface ChaosCounts {
  projectorKills: number;
  redisRestarts: number;
  connectionDrops: number;
  delays: number;
  failedAppends: number;
  /** Blue/green switches: a new read-model version rebuilt from the log and activated under load. */
  blueGreenSwitches: number;
}

export interface ChaosTargets {
  readonly emulator: EsdbEmulator;
  /** SIGKILL the projector and start a new one. */
  readonly killProjector: () => Promise<void>;
  /** SIGKILL Redis and start it again on its data. */
  readonly restartRedis: () => Promise<void>;
  /** Rebuild the next read-model version and activate it; answers whether it switched. */
  readonly blueGreen: () => Promise<boolean>;
}

type Fault = keyof Omit<ChaosCounts, 'delays' | 'failedAppends' | 'blueGreenSwitches'> | 'delay' | 'failAppends' | 'blueGreen';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A plan of faults, shuffled by the seeded random and spread over the run at random moments:
 * at least the counts asked for of each kind. Drops alternate between the three ways a
 * connection dies (graceful close, reset, silence).
 */
export const planChaos = (counts: { kills: number; redisRestarts: number; drops: number; switches: number }, random: () => number): Fault[] => {
  const plan: Fault[] = [
    ...Array<Fault>(counts.switches).fill('blueGreen'),
    ...Array<Fault>(counts.kills).fill('projectorKills'),
    ...Array<Fault>(counts.redisRestarts).fill('redisRestarts'),
    ...Array<Fault>(counts.drops).fill('connectionDrops'),
    ...Array<Fault>(Math.ceil(counts.drops / 4)).fill('delay'),
    ...Array<Fault>(Math.ceil(counts.drops / 4)).fill('failAppends'),
  ];
  for (let i = plan.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [plan[i], plan[j]] = [plan[j] as Fault, plan[i] as Fault];
  }
  return plan;
};

export const runChaos = async (plan: readonly Fault[], durationMs: number, targets: ChaosTargets, random: () => number, log: (line: string) => void): Promise<ChaosCounts> => {
  const counts: ChaosCounts = { projectorKills: 0, redisRestarts: 0, connectionDrops: 0, delays: 0, failedAppends: 0, blueGreenSwitches: 0 };
  const slot = durationMs / (plan.length + 1);
  for (const [index, fault] of plan.entries()) {
    // A random moment within this fault's slot, so faults land at any point of a command or batch.
    await sleep(slot * (0.3 + random() * 0.7));
    switch (fault) {
      case 'projectorKills':
        await targets.killProjector();
        counts.projectorKills++;
        break;
      case 'redisRestarts':
        await targets.restartRedis();
        counts.redisRestarts++;
        break;
      case 'connectionDrops': {
        const kind = index % 3;
        await targets.emulator.faults.dropConnections(kind === 0 ? { graceful: true } : { graceful: false, reset: kind === 1 });
        counts.connectionDrops++;
        break;
      }
      case 'delay':
        targets.emulator.faults.delay(100 + Math.floor(random() * 400));
        await sleep(500 + random() * 1000);
        targets.emulator.faults.delay(0);
        counts.delays++;
        break;
      case 'blueGreen':
        if (await targets.blueGreen()) counts.blueGreenSwitches++;
        break;
      case 'failAppends':
        targets.emulator.faults.failNext('append', 1 + Math.floor(random() * 3), status.UNAVAILABLE);
        counts.failedAppends++;
        break;
    }
    log(`chaos ${index + 1}/${plan.length}: ${fault}`);
  }
  return counts;
};
