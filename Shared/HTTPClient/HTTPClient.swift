import CCurl
package enum HTTPClientModule {}
