/** A signed-in session, as a request carries it. */
export interface Session {
  /** The session's id: its Redis key is `sess:<id>`. */
  readonly id: string;
  /** The only identity a session carries, so nothing user-shaped lives in process memory. */
  readonly userId: string;
  /** The cookie's value: the id and its HMAC (@fastify/cookie's Signer), re-sent as is while the id lives. */
  readonly cookie: string;
  /** When the stored copy was last written (epoch ms): an unchanged session is written back once this is old. */
  readonly writtenAt: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in session, or null: no cookie, a forged one, or one whose session has ended or expired. */
    session: Session | null;
  }
}
