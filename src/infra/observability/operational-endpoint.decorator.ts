import { SetMetadata } from '@nestjs/common';

export const OPERATIONAL_ENDPOINT = 'operational-endpoint';

/** Probes and scrapes (health, metrics): infrastructure traffic, not client traffic, so exempt from rate limits. */
export const OperationalEndpoint = (): ClassDecorator & MethodDecorator => SetMetadata(OPERATIONAL_ENDPOINT, true);
