'use strict';
// Reference (c): what the framework costs. A minimal Nest app on Fastify, as the service is: one module,
// one controller, one guard verifying the same HS256 bearer, the same Sinch signing as reference (a); no
// database, no audit, no logging. Plain JavaScript, so the decorators are applied as the functions they are.
require('reflect-metadata');
const { Controller, Get, Injectable, Module, Req, UnauthorizedException, UseGuards } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { FastifyAdapter } = require('@nestjs/platform-fastify');
const { verifyBearer } = require('./bearer');
const { sinchToken } = require('./sinch-token');

const { PORT, JWT_SECRET, APP_KEY, APP_SECRET } = process.env;

class BearerGuard {
  canActivate(context) {
    const request = context.switchToHttp().getRequest();
    const claims = verifyBearer(request.headers.authorization, JWT_SECRET);
    if (!claims) throw new UnauthorizedException();
    request.claims = claims;
    return true;
  }
}
Reflect.decorate([Injectable()], BearerGuard);

class SinchTokenController {
  mint(request) {
    const { sub } = request.claims;
    return { token: sinchToken(APP_KEY, APP_SECRET, sub), applicationKey: APP_KEY, userId: sub, callerIdentifier: '', expiresIn: 600 };
  }
}
Req()(SinchTokenController.prototype, 'mint', 0);
Reflect.decorate([Get('sinch'), UseGuards(BearerGuard)], SinchTokenController.prototype, 'mint', Object.getOwnPropertyDescriptor(SinchTokenController.prototype, 'mint'));
Reflect.decorate([Controller('api/calls/token')], SinchTokenController);

class ReferenceModule {}
Reflect.decorate([Module({ controllers: [SinchTokenController], providers: [BearerGuard] })], ReferenceModule);

async function main() {
  const app = await NestFactory.create(ReferenceModule, new FastifyAdapter(), { logger: false });
  await app.listen(Number(PORT), '127.0.0.1');
  process.send?.('ready');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
