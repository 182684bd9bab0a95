/**
 * `writer` with its `applyBatch` replaced and every other member its own (read through to it, so
 * methods keep working whatever kind of object the writer is): how the projector's wrappers
 * (checkpoint guard, batch timing) stack on the read models without restating their interface.
 */
export const overrideApplyBatch = <W extends { applyBatch(...args: never[]): Promise<unknown> }>(writer: W, applyBatch: W['applyBatch']): W =>
  new Proxy(writer, {
    get: (target, property, receiver) => (property === 'applyBatch' ? applyBatch : Reflect.get(target, property, receiver)),
  });
