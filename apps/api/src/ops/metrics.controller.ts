import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Public } from '@mintline/access/access.decorators';
import { MetricsService } from '@mintline/common/metrics/metrics.service';

@ApiTags('Operations')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Public()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({ summary: 'Prometheus metrics: request counts and latency by route and status, mints by outcome' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text exposition format (version 0.0.4)', schema: { type: 'string' } })
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
