/** What a connection's token allows; the auth layer's Principal satisfies it. */
export interface Access {
  can(action: 'publish' | 'consume' | 'admin' | 'read', queue?: string): boolean;
}

/**
 * Checks a token sent on the upgrade (`Authorization` header) or in `hello`.
 * Resolves to what it allows; rejects with UnauthorizedError. With auth off it
 * resolves for any input, including none.
 */
export type Authenticate = (authorization: string | undefined) => Promise<Access>;
