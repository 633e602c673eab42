import type { Principal } from '../auth/scopes.ts';

/** What a connection's token allows (the auth layer's Principal). */
export type Access = Principal;

/**
 * Checks a token sent on the upgrade (`Authorization` header) or in `hello`.
 * Resolves to what it allows; rejects with UnauthorizedError. With auth off it
 * resolves for any input, including none.
 */
export type Authenticate = (authorization: string | undefined) => Promise<Access>;
