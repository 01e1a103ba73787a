import Hummingbird
package enum ServiceKitModule {}
