/** API tokens as the store keeps them (the Store's token methods use these; see store.ts). */

/** An API token as stored: its id, a label, the SHA-256 (hex) of the whole token text, its scopes. */
export interface TokenRow {
  /** 12 hex characters; also written inside the token text, so a lookup is by primary key. */
  id: string;
  name: string;
  hash: string;
  /** Scope texts, e.g. `publish:orders.*`, `consume:orders.eu`, `admin`. */
  scopes: string[];
  createdAt: number;
  /** When the token stops being accepted (Unix ms), or null: it never expires. */
  expiresAt: number | null;
  /** When a broker last recorded accepting it (Unix ms; see Store.tokensMarkUsed), or null: never. */
  lastUsedAt: number | null;
}

/** A token to save: a new token has not been used yet; `expiresAt` defaults to null (never). */
export type NewTokenRow = Omit<TokenRow, 'expiresAt' | 'lastUsedAt'> & { expiresAt?: number | null };

/** A token as listed: everything but the hash. */
export type TokenInfo = Omit<TokenRow, 'hash'>;

/** One accepted use of a token, for Store.tokensMarkUsed. */
export interface TokenUse {
  id: string;
  /** When it was accepted (Unix ms). */
  at: number;
}
