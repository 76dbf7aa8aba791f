declare module 'fastify' {
  interface Session {
    /** Set at sign-in; the only identity a session carries, so nothing user-shaped lives in process memory. */
    userId?: string;
  }
}

export {};
