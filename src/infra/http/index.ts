export { createFastifyAdapter } from './fastify-adapter';
export { configureHttp } from './configure-http';
export { ApiErrorDto } from './api-error.dto';
export { SESSION_SECURITY } from './swagger';
export { SERVED_BY_HEADER } from './http-hooks';
export { REQUEST_ID_HEADER } from './request-id';
export { registerCachePolicy } from './cache-headers';
