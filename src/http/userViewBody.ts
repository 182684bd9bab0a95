import type { UserView } from '#ports/readModels';

/** The API's user shape (README § API): `position` is internal, the revision travels as a string. */
export const userViewBody = (view: UserView) => ({
  id: view.id,
  email: view.email,
  displayName: view.displayName,
  status: view.status,
  emailVerified: view.emailVerified,
  registeredAt: view.registeredAt,
  revision: view.revision.toString(),
});

export const STALE_HEADER = 'x-read-model-stale';

/** Tells the caller the read model had not reached its consistency token when the wait ran out. */
export const staleHeader = (stale: boolean): Record<string, string> => (stale ? { [STALE_HEADER]: 'true' } : {});
