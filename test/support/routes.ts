import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import { ACCESS_RULE, AccessRule } from '../../libs/access/src/access.decorators';
import type { TestApp } from './test-app';

/**
 * The route table as Nest registered it, read from the controllers' own metadata, so that a route added
 * tomorrow is checked without anyone remembering to list it here.
 */
export interface NestRoute {
  method: string;
  /** Full path as Fastify serves it, with `:param` placeholders. */
  path: string;
  controller: string;
  handler: string;
  rule: AccessRule | undefined;
}

function joinPath(...parts: string[]): string {
  const joined = parts
    .map((part) => part.replace(/^\/+|\/+$/g, ''))
    .filter((part) => part.length > 0)
    .join('/');
  return `/${joined}`;
}

export function discoverRoutes(testApp: TestApp): NestRoute[] {
  const fastify = testApp.app.getHttpAdapter().getInstance();
  const discovery = new DiscoveryService(testApp.app.get(ModulesContainer));
  const scanner = new MetadataScanner();
  const reflector = new Reflector();
  const found: NestRoute[] = [];
  for (const wrapper of discovery.getControllers()) {
    const { instance, metatype } = wrapper;
    if (!instance || !metatype) continue;
    const prototype = Object.getPrototypeOf(instance);
    const controllerPaths = ([] as string[]).concat(Reflect.getMetadata(PATH_METADATA, metatype) ?? '/');
    for (const name of scanner.getAllMethodNames(prototype)) {
      const handler = prototype[name];
      const requestMethod: RequestMethod | undefined = Reflect.getMetadata(METHOD_METADATA, handler);
      if (requestMethod === undefined) continue;
      const method = RequestMethod[requestMethod];
      const handlerPaths = ([] as string[]).concat(Reflect.getMetadata(PATH_METADATA, handler) ?? '/');
      const rule = reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_RULE, [handler, metatype]);
      for (const controllerPath of controllerPaths) {
        for (const handlerPath of handlerPaths) {
          const bare = joinPath(controllerPath, handlerPath);
          // The global prefix `api` applies except to a few ops routes; ask Fastify which one it serves.
          const candidates = [joinPath('api', bare), bare];
          const path = candidates.find((url) => fastify.hasRoute({ method: method as 'GET', url }));
          if (!path) throw new Error(`Nest route ${method} ${bare} (${metatype.name}.${name}) is not served by Fastify`);
          found.push({ method, path, controller: metatype.name, handler: name, rule });
        }
      }
    }
  }
  return found;
}
