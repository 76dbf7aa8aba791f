import { ApiProperty } from '@nestjs/swagger';

/** The one error shape of every non-2xx response. */
export class ApiErrorDto {
  @ApiProperty({ example: 400 })
  statusCode: number;

  @ApiProperty({ example: 'Bad Request', description: 'The HTTP reason phrase for statusCode' })
  error: string;

  @ApiProperty({ example: 'email must be an email', description: 'What went wrong; validation errors name the field' })
  message: string;
}
