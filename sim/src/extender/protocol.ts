/** The extender thread's set-up and messages (plain data: they cross a worker-thread boundary). */
export interface ExtenderThreadSetup {
  readonly redisUrl: string;
  readonly keyPrefix: string;
  /** Fake API server URL (http://127.0.0.1:PORT). */
  readonly apiUrl: string;
  readonly provisionTimeoutMs: number;
  readonly logLevel: string;
}

export type ExtenderThreadMessage =
  | { readonly kind: 'listening'; readonly url: string }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'stopped' };
