import {
  type ArgumentMetadata,
  BadRequestException,
  Injectable,
  ParseUUIDPipe,
  type PipeTransform,
} from '@nestjs/common';

/** The one form of a UUID this service uses: lower case, as PostgreSQL prints it. */
export const canonicalUuid = (id: string): string => id.toLowerCase();

/**
 * A UUID path parameter, validated (400 otherwise) and canonical. ParseUUIDPipe alone accepts upper case and
 * passes it on unchanged, so `/articles/<UPPER>` and `/articles/<lower>` were one row but two cache keys: a write
 * through one left the other's entry stale. Everything downstream (queries, invalidation, jobs) sees one form.
 */
@Injectable()
export class CanonicalUuidPipe implements PipeTransform<string, Promise<string>> {
  private readonly parse: ParseUUIDPipe;

  constructor(name = 'id') {
    this.parse = new ParseUUIDPipe({ exceptionFactory: () => new BadRequestException(`${name} must be a UUID`) });
  }

  async transform(value: string, metadata: ArgumentMetadata): Promise<string> {
    await this.parse.transform(value, metadata);
    return canonicalUuid(value);
  }
}
