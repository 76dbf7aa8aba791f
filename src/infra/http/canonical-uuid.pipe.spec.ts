import { BadRequestException } from '@nestjs/common';
import { CanonicalUuidPipe } from './canonical-uuid.pipe';

describe('CanonicalUuidPipe', () => {
  const pipe = new CanonicalUuidPipe();
  const meta = { type: 'param', data: 'id' } as const;

  it('returns a valid UUID in lower case, whatever case it came in', async () => {
    const id = '0b6f3c9e-4f5a-4d2b-9c1e-7a8b9c0d1e2f';
    await expect(pipe.transform(id.toUpperCase(), meta)).resolves.toBe(id);
    await expect(pipe.transform(id, meta)).resolves.toBe(id);
  });

  it('answers anything else with a 400 naming the parameter', async () => {
    await expect(pipe.transform('not-a-uuid', meta)).rejects.toThrow(new BadRequestException('id must be a UUID'));
    await expect(new CanonicalUuidPipe('articleId').transform('', meta)).rejects.toThrow('articleId must be a UUID');
  });
});
