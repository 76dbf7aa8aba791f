import { Body, Controller, Get, HttpCode, HttpStatus, Post, Req, UnauthorizedException } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ReadFromPrimary } from '../../infra/database';
import { ApiErrorDto } from '../../infra/http';
import { StrictRateLimit } from '../../infra/rate-limit';
import { Authenticated, CurrentUser, SessionManager, type SessionUser } from '../../infra/session';
import { AccountsService } from './accounts.service';
import { normalizeEmail } from './dto/account-fields';
import { ChangePasswordDto } from './dto/change-password.dto';
import { LoginDto } from './dto/login.dto';
import { SignupDto } from './dto/signup.dto';
import { UserDto } from './dto/user.dto';

@ApiTags('auth')
@Controller('auth')
export class AccountsController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly sessions: SessionManager,
  ) {}

  @Post('signup')
  @StrictRateLimit({ account: (req) => normalizeEmail(bodyField(req, 'email')) })
  @ApiOperation({ summary: 'Create an account (does not sign in)' })
  @ApiCreatedResponse({ type: UserDto })
  @ApiBadRequestResponse({ type: ApiErrorDto, description: 'Invalid input; the message names the field' })
  @ApiConflictResponse({ type: ApiErrorDto, description: 'The email is already registered' })
  async signup(@Body() dto: SignupDto): Promise<UserDto> {
    return UserDto.from(await this.accounts.signup(dto));
  }

  @Post('login')
  @HttpCode(HttpStatus.OK)
  @StrictRateLimit({ account: (req) => normalizeEmail(bodyField(req, 'email')) })
  // The account may have been created (or its password changed) a moment ago; a lagging replica would say 401.
  @ReadFromPrimary()
  @ApiOperation({ summary: 'Sign in; sets an HttpOnly session cookie' })
  @ApiOkResponse({
    type: UserDto,
    headers: { 'Set-Cookie': { description: 'The session cookie', schema: { type: 'string' } } },
  })
  @ApiBadRequestResponse({ type: ApiErrorDto })
  @ApiUnauthorizedResponse({ type: ApiErrorDto, description: 'Wrong email or password (one message for both)' })
  async login(@Body() dto: LoginDto, @Req() request: FastifyRequest): Promise<UserDto> {
    const user = await this.accounts.authenticate(dto);
    if (!user) throw new UnauthorizedException('Invalid email or password');
    await this.sessions.signIn(request, user.id);
    return UserDto.from(user);
  }

  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Sign out: destroys the session everywhere and clears the cookie' })
  @ApiNoContentResponse({ description: 'Signed out (also when no session existed)' })
  async logout(@Req() request: FastifyRequest): Promise<void> {
    await this.sessions.signOut(request);
  }

  @Post('logout-all')
  @Authenticated()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Sign out everywhere: destroys every session of this user, on every device' })
  @ApiNoContentResponse({ description: 'All sessions ended' })
  async logoutEverywhere(@CurrentUser() user: SessionUser, @Req() request: FastifyRequest): Promise<void> {
    await this.sessions.signOutEverywhere(request, user.id);
  }

  @Post('password')
  @Authenticated()
  @HttpCode(HttpStatus.NO_CONTENT)
  @StrictRateLimit({ account: (req) => req.session?.userId })
  @ApiOperation({ summary: 'Change the password; every other session ends, this one continues under a new id' })
  @ApiNoContentResponse({ description: 'Changed; a new session cookie is set' })
  @ApiBadRequestResponse({ type: ApiErrorDto, description: 'currentPassword is wrong, or newPassword is unacceptable' })
  async changePassword(
    @CurrentUser() user: SessionUser,
    @Body() dto: ChangePasswordDto,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    await this.accounts.changePassword(user.id, dto);
    await this.sessions.renewAfterCredentialChange(request, user.id);
  }

  @Get('me')
  @Authenticated()
  @ApiOperation({ summary: 'The signed-in user' })
  @ApiOkResponse({ type: UserDto })
  async me(@CurrentUser() current: SessionUser, @Req() request: FastifyRequest): Promise<UserDto> {
    const user = await this.accounts.findById(current.id);
    if (!user) {
      // The account is gone; a session pointing at it must not linger.
      await this.sessions.signOut(request);
      throw new UnauthorizedException('Sign in first');
    }
    return UserDto.from(user);
  }
}

/** A raw body field, before validation (the rate limit runs as a guard, ahead of the pipes). */
function bodyField(request: FastifyRequest, name: string): unknown {
  const body = request.body;
  return body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
}
