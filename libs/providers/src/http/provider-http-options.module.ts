import { DynamicModule, Module } from '@nestjs/common';
import { PROVIDER_HTTP_OPTIONS, ProviderHttpOptions } from './provider-http.client';

/**
 * Supplies the outbound HTTP client's options (timeouts, limits) to the whole application. The service
 * runs on the defaults; tests hand in a short timeout so a hanging provider fails fast without sleeping.
 */
@Module({})
export class ProviderHttpOptionsModule {
  static forRoot(options: ProviderHttpOptions = {}): DynamicModule {
    return {
      module: ProviderHttpOptionsModule,
      global: true,
      providers: [{ provide: PROVIDER_HTTP_OPTIONS, useValue: options }],
      exports: [PROVIDER_HTTP_OPTIONS],
    };
  }
}
